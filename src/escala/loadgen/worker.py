"""One load-generating process: a share of the clients on one event loop.

The runner starts several of these so the generator spreads over cores. A worker only
talks to its parent through a multiprocessing queue: a progress snapshot every half
second, then its counters and latencies once the run's deadline has passed.
"""

import asyncio
import time
from dataclasses import dataclass, replace
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from escala.loadgen import protocol
from escala.loadgen.stats import Counters, Timeline

PROGRESS_EVERY_S = 0.5
# Handshakes in flight at once per worker: enough to be quick, few enough that a burst of
# thousands of clients does not overflow the server's listen backlog.
CONNECTS_IN_FLIGHT = 64
WRITE_BUFFER_LIMIT = 256 * 1024


@dataclass(frozen=True)
class ClientPlan:
    """What one client does: when to connect and, for senders, how much to send."""

    index: int
    connect_at: float  # wall-clock seconds (time.time())
    rate: float = 0.0  # messages per second; 0 for a listener
    messages: int | None = None  # cap on messages sent; None = until send_until


@dataclass(frozen=True)
class WorkerPlan:
    """A worker's share of a run; times are wall-clock so all workers agree on them."""

    worker: int
    ws_url: str
    started: float
    send_from: float
    send_until: float
    deadline: float
    clients: tuple[ClientPlan, ...]
    total_clients: int  # over every worker: senders wait until all of them have settled
    add_user: bool = True
    room: str | None = None  # joined after `add user` (escala's rooms; needs the login)


@dataclass
class WorkerResult:
    worker: int
    counters: Counters
    timeline: Timeline
    last_connected: float | None


class _Worker:
    def __init__(self, plan: WorkerPlan, settled: "Synchronized[int]") -> None:
        self.plan = plan
        self.settled = settled
        self.counters = Counters()
        self.timeline = Timeline()
        self.last_connected: float | None = None
        self.connects = asyncio.Semaphore(CONNECTS_IN_FLIGHT)

    async def run(self, queue: "Queue[Any]") -> None:
        reporter = asyncio.create_task(self._report(queue))
        clients = [asyncio.create_task(self._client(c)) for c in self.plan.clients]
        await asyncio.sleep(max(0.0, self.plan.deadline - time.time()))
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        reporter.cancel()
        queue.put(
            (
                "done",
                WorkerResult(self.plan.worker, self.counters, self.timeline, self.last_connected),
            )
        )

    async def _report(self, queue: "Queue[Any]") -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            queue.put(("progress", self.plan.worker, replace(self.counters)))

    async def _client(self, plan: ClientPlan) -> None:
        await asyncio.sleep(max(0.0, plan.connect_at - time.time()))
        try:
            async with self.connects:
                transport, listener = await ws_connect(
                    lambda: _ChatClient(self, plan.index, sender=plan.rate > 0),
                    self.plan.ws_url,
                    websocket_handshake_timeout=30,
                )
                try:
                    await asyncio.wait_for(listener.ready, 30)
                except BaseException:
                    transport.disconnect()
                    raise
        except asyncio.CancelledError:
            raise
        except Exception:
            self.counters.errors += 1
            self._settle()
            return
        self.counters.connected += 1
        self._settle()
        self.last_connected = time.time()
        sender = asyncio.create_task(self._send(transport, plan)) if plan.rate > 0 else None
        try:
            await transport.wait_disconnected()
            self.counters.disconnects += 1  # the server closed on us before the deadline
        finally:
            listener.closing = True
            if sender is not None:
                sender.cancel()
            transport.disconnect()

    def _settle(self) -> None:
        with self.settled.get_lock():
            self.settled.value += 1

    async def _everyone_settled(self) -> None:
        """Wait until every client of the run has connected or failed, so that no listener
        misses a message only because its worker started late on a busy machine."""
        while self.settled.value < self.plan.total_clients and time.time() < self.plan.send_until:
            await asyncio.sleep(0.01)

    async def _send(self, transport: WSTransport, plan: ClientPlan) -> None:
        await asyncio.sleep(max(0.0, self.plan.send_from - time.time()))
        await self._everyone_settled()
        interval = 1.0 / plan.rate
        next_at = time.time()
        sent = 0
        socket = transport.underlying_transport
        while time.time() < self.plan.send_until and (
            plan.messages is None or sent < plan.messages
        ):
            delay = next_at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # Back-pressure: wait while the server is not reading what we already sent.
            while socket.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
                await asyncio.sleep(0.001)
            transport.send(WSMsgType.TEXT, protocol.stamped_message().encode())
            sent += 1
            self.counters.sent += 1
            next_at += interval


# Ack ids of the two handshake events a --room run waits for.
_LOGGED_IN, _JOINED = 1, 2


class _ChatClient(WSListener):
    """One client's frames, handled in picows's callback without a task per frame."""

    def __init__(self, worker: _Worker, index: int, sender: bool) -> None:
        self.worker = worker
        self.index = index
        # A chat that requires a login before `new message` (escala's does) would refuse
        # an anonymous sender, so senders log in even when listeners do not.
        # Joining a room needs a login too.
        self.logs_in = sender or worker.plan.add_user or worker.plan.room is not None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closing = False

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        packet = frame.get_payload_as_ascii_text()
        if packet == protocol.EIO_PING:
            transport.send(WSMsgType.TEXT, protocol.PONG_PACKET.encode())
        elif not self.ready.done():
            self._handshake(transport, packet)
        else:
            stamp = protocol.message_stamp(packet)
            if stamp is not None:
                now = time.time_ns()
                self.worker.counters.delivered += 1
                self.worker.timeline.record(
                    int(now / 1e9 - self.worker.plan.started), (now - stamp) / 1e6
                )

    def _handshake(self, transport: WSTransport, packet: str) -> None:
        if packet.startswith(protocol.EIO_OPEN):
            transport.send(WSMsgType.TEXT, protocol.CONNECT_PACKET.encode())
        elif packet.startswith(protocol.CONNECT_PACKET):
            if self.logs_in:
                add_user = protocol.event("add user", f"load-{self.index}", ack=_LOGGED_IN)
                transport.send(WSMsgType.TEXT, add_user.encode())
            if self.worker.plan.room is None:
                self.ready.set_result(None)
        elif (reply := protocol.ack_reply(packet, _LOGGED_IN)) is not None:
            # With --room: the join goes once the login is done (the server handles
            # events concurrently, so sending both at once could join before the login).
            if self._refused(reply, "log in"):
                return
            join = protocol.event("join", self.worker.plan.room, ack=_JOINED)
            transport.send(WSMsgType.TEXT, join.encode())
        elif (reply := protocol.ack_reply(packet, _JOINED)) is not None:
            if not self._refused(reply, f"join room {self.worker.plan.room!r}"):
                self.ready.set_result(None)
        elif packet.startswith(protocol.CONNECT_ERROR_PACKET):
            self.ready.set_exception(
                ConnectionError(f"the server refused the connection: {packet[2:]:.200}")
            )

    def _refused(self, reply: Any, doing: str) -> bool:
        """Fail this client's handshake if the server's ack carries an error."""
        if isinstance(reply, dict) and "error" in reply:
            self.ready.set_exception(
                ConnectionError(f"the server refused to {doing}: {reply['error']:.200}")
            )
            return True
        return False


def run_worker(plan: WorkerPlan, queue: "Queue[Any]", settled: "Synchronized[int]") -> None:
    """Process entry point: run the plan on uvloop when it is installed."""
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(_Worker(plan, settled).run(queue))
