"""What waits to be sent: websocket frames coalesced per socket, packets for polling clients.

Coalesced writes: every frame for a socket in one loop iteration leaves in one write.

Profiling the fast server under fan-out (docs/performance.md) put three quarters of its
time in the per-recipient `send` of picows, one `write` system call per frame per client.
Under load several broadcasts land in the same loop iteration, so the outbox queues the
already-framed bytes per socket and flushes each socket once, at the next iteration.

It also bounds what one client can cost: a client that stops reading while the room keeps
talking would otherwise grow the server's write buffer without end, so a socket is
dropped as soon as the next frame would take its unsent backlog (the transport's buffer
plus what is queued here) past `max_backlog` bytes: checked before writing, never after
(its client reconnects and, with the tutorial's serverOffset, catches up from history).
A long-polling queue has the same bound.
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
        # Per socket queued this iteration: its backlog so far, or -1 once dropped.
        self._backlog: dict[asyncio.Transport, int] = {}

    def put(self, sock: asyncio.Transport, frame: bytes) -> None:
        backlog = self._backlog.get(sock)
        if backlog is None:
            if sock.is_closing():
                return
            if not self._backlog:
                asyncio.get_running_loop().call_soon(self.flush)
            backlog = sock.get_write_buffer_size()
            self._pending[sock] = []
        elif backlog < 0:
            return  # dropped earlier in this iteration
        backlog += len(frame)
        if backlog > self.max_backlog:
            log.warning("dropping a client that fell %d bytes behind", backlog - len(frame))
            self._backlog[sock] = -1
            del self._pending[sock]
            sock.abort()
            return
        self._backlog[sock] = backlog
        self._pending[sock].append(frame)

    def flush(self) -> None:
        """Write what is queued: one write per socket; closed sockets are skipped."""
        pending, self._pending, self._backlog = self._pending, {}, {}
        for sock, frames in pending.items():
            if not sock.is_closing():
                sock.write(frames[0] if len(frames) == 1 else b"".join(frames))


class PollQueue:
    """Packets waiting for a long-polling client's next GET, and that GET if it waits.

    A GET is answered as soon as something is queued, at the next loop iteration, so the
    packets of one iteration (several broadcasts under load) leave in one response.
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
            respond(self.take())

    def take(self) -> list[bytes]:
        """Everything queued, in order; the queue is empty after."""
        packets, self.packets, self.size = self.packets, [], 0
        return packets
