"""What waits to be sent: websocket frames coalesced per socket, packets for polling clients.

Coalesced writes: every frame for a socket in one loop iteration leaves in one write.

Profiling the fast server under fan-out (docs/performance.md) put three quarters of its
time in the per-recipient `send` of picows, one `write` system call per frame per client.
Under load several broadcasts land in the same loop iteration, so the outbox queues the
already-framed bytes per socket and flushes each socket once, at the next iteration.

It also bounds what one client can cost: a client that stops reading while the room keeps
talking would otherwise grow the server's write buffer without end, so a socket whose
unsent backlog passes `max_backlog` bytes is dropped (its client reconnects and, with the
tutorial's serverOffset, catches up from history).
"""

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("escala.chat.outbox")

MAX_BACKLOG_BYTES = 8 * 1024 * 1024


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
        socket that has fallen too far behind is dropped."""
        pending, self._pending = self._pending, {}
        for sock, frames in pending.items():
            if sock.is_closing():
                continue
            sock.write(frames[0] if len(frames) == 1 else b"".join(frames))
            if sock.get_write_buffer_size() > self.max_backlog:
                log.warning("dropping a client %d bytes behind", sock.get_write_buffer_size())
                sock.abort()


class PollQueue:
    """Packets waiting for a long-polling client's next GET, and that GET if it waits.

    A GET is answered as soon as something is queued, at the next loop iteration, so the
    packets of one iteration (several broadcasts under load) leave in one response.
    """

    __slots__ = ("_scheduled", "packets", "waiting")

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.waiting: Callable[[list[bytes]], None] | None = None
        self._scheduled = False

    def send(self, packet: bytes) -> None:
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
            respond(self.take())

    def take(self) -> list[bytes]:
        """Everything queued, in order; the queue is empty after."""
        packets, self.packets = self.packets, []
        return packets
