"""What waits to be sent: websocket frames coalesced per socket, packets for polling clients.

Coalesced writes: every frame for a socket in one loop iteration leaves in one write.

Profiling the fast server under fan-out (docs/performance.md) put three quarters of its
time in the per-recipient `send` of picows, one `write` system call per frame per client.
Under load several broadcasts land in the same loop iteration, so the outbox queues the
already-framed bytes per socket and flushes each socket once, at the next iteration.

It also bounds what one client can cost: a client that stops reading while the room keeps
talking would otherwise grow the server's write buffer without end, so a socket is
dropped as soon as the next write would take its unsent backlog (the transport's buffer)
past `max_backlog` bytes: checked before writing, never after
(its client reconnects and, with the tutorial's serverOffset, catches up from history).
A long-polling queue has the same bound.
"""

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("escala.chat.outbox")

MAX_BACKLOG_BYTES = 8 * 1024 * 1024
PACKETS_PER_RESPONSE = 16
"""The most packets one long-polling response carries. python-engineio's client (and
server) refuse a payload of more (`Payload.max_decode_packets`, 16) and drop the
connection as a transport error; the official client takes any number. A longer queue
leaves over several GETs, each answered at once."""


class Outbox:
    """Frames waiting to be written, per socket, until the next loop iteration.

    Everything the server sends a client (events, acks, pings) must go through the same
    outbox, or frames written directly would overtake queued ones.
    """

    def __init__(self, max_backlog: int = MAX_BACKLOG_BYTES) -> None:
        self.max_backlog = max_backlog
        self._pending: dict[asyncio.Transport, list[bytes]] = {}

    def put(self, sock: asyncio.Transport, frame: bytes) -> None:
        queued = self._pending.get(sock)
        if queued is not None:
            queued.append(frame)
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending[sock] = [frame]

    def flush(self) -> None:
        """Write what is queued: one write per socket; closed sockets are skipped, and a
        socket whose backlog this write would take past `max_backlog` is dropped instead
        of written to. (Checked here, once per socket, not per frame in `put`: the
        frames are shared by every recipient, so queuing them costs references only.)"""
        pending, self._pending = self._pending, {}
        for sock, frames in pending.items():
            if sock.is_closing():
                continue
            data = frames[0] if len(frames) == 1 else b"".join(frames)
            behind = sock.get_write_buffer_size()
            if behind + len(data) > self.max_backlog:
                log.warning(
                    "dropping a client %d bytes behind: writing %d more would pass %d",
                    behind,
                    len(data),
                    self.max_backlog,
                )
                sock.abort()
                continue
            sock.write(data)


class PollQueue:
    """Packets waiting for a long-polling client's next GET, and that GET if it waits.

    A GET is answered as soon as something is queued, at the next loop iteration, so the
    packets of one iteration (several broadcasts under load) leave in one response, up
    to `PACKETS_PER_RESPONSE` of them.
    """

    __slots__ = ("_scheduled", "max_backlog", "overflow", "packets", "size", "waiting")

    def __init__(self, max_backlog: int = MAX_BACKLOG_BYTES) -> None:
        self.packets: list[bytes] = []
        self.waiting: Callable[[list[bytes]], None] | None = None
        self.max_backlog = max_backlog
        self.size = 0  # bytes queued
        # Called, once, when a client that does not poll falls `max_backlog` behind.
        self.overflow: Callable[[], None] | None = None
        self._scheduled = False

    def send(self, packet: bytes) -> None:
        self.size += len(packet)
        if self.size > self.max_backlog:
            self.packets, self.size = [], 0
            if self.overflow is not None:
                overflow, self.overflow = self.overflow, None
                log.warning("dropping a long-polling client that fell behind")
                overflow()
            return
        self.packets.append(packet)
        if self.waiting is not None and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def wait(self, respond: Callable[[list[bytes]], None]) -> None:
        """Hold a GET until there is something to send (at once if there is already)."""
        self.waiting = respond
        if self.packets and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self.waiting is not None and self.packets:
            respond, self.waiting = self.waiting, None
            if len(self.packets) <= PACKETS_PER_RESPONSE:
                respond(self.take())
                return
            packets = self.packets[:PACKETS_PER_RESPONSE]
            del self.packets[:PACKETS_PER_RESPONSE]
            self.size -= sum(map(len, packets))
            respond(packets)

    def take(self) -> list[bytes]:
        """Everything queued, in order; the queue is empty after (an upgrade moves it
        to the websocket this way, where no cap applies)."""
        packets, self.packets, self.size = self.packets, [], 0
        return packets
