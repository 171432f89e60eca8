"""One load-generating process: a share of the clients on one event loop.

The runner starts several of these so the generator spreads over cores. A worker only
talks to its parent through a multiprocessing queue: a progress snapshot every half
second, then its counters and latencies once the run's deadline has passed.
"""

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from typing import Any, Protocol

import aiohttp
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from escala.loadgen import protocol
from escala.loadgen.stats import Counters, Timeline

PROGRESS_EVERY_S = 0.5
# Handshakes in flight at once per worker: enough to be quick, few enough that a burst of
# thousands of clients does not overflow the server's listen backlog.
CONNECTS_IN_FLIGHT = 64
WRITE_BUFFER_LIMIT = 256 * 1024
HANDSHAKE_TIMEOUT_S = 30


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
    engine_url: str  # ws://…/socket.io/?EIO=4&transport=websocket, or the polling one
    started: float
    send_from: float
    send_until: float
    deadline: float
    clients: tuple[ClientPlan, ...]
    total_clients: int  # over every worker: senders wait until all of them have settled
    add_user: bool = True
    room: str | None = None  # joined after `add user` (escala's rooms; needs the login)
    transport: str = "websocket"  # or "polling": HTTP long-polling, never upgraded
    # Each client's token by its index, for a chat that authenticates (its name then
    # comes from the token, whatever `add user` asks for).
    tokens: dict[int, str] = field(default_factory=dict, repr=False)
    # In the clients' nicknames: the chat refuses a name taken in the room, and two runs
    # (or a run and a person) may share one.
    tag: str = field(default_factory=lambda: secrets.token_hex(3))


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
        self.http: aiohttp.ClientSession | None = None  # the long-polling clients' pool

    async def run(self, queue: "Queue[Any]") -> None:
        if self.plan.transport == "polling":
            # Each client holds a GET and sends POSTs: no cap on connections.
            self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        reporter = asyncio.create_task(self._report(queue))
        clients = [asyncio.create_task(self._client(c)) for c in self.plan.clients]
        await asyncio.sleep(max(0.0, self.plan.deadline - time.time()))
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        reporter.cancel()
        if self.http is not None:
            await self.http.close()
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
        link: _Link
        try:
            async with self.connects:
                if self.http is not None:
                    link = _PollingLink(self, plan.index, plan.rate > 0, self.http)
                else:
                    link = _WebSocketLink(self, plan.index, plan.rate > 0)
                await link.open()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.counters.errors += 1
            self._settle()
            return
        self.counters.connected += 1
        self._settle()
        self.last_connected = time.time()
        sender = asyncio.create_task(self._send(link, plan)) if plan.rate > 0 else None
        try:
            await link.wait_closed()
            self.counters.disconnects += 1  # the server closed on us before the deadline
        finally:
            link.chat.closing = True
            if sender is not None:
                sender.cancel()
            link.close()

    def _settle(self) -> None:
        with self.settled.get_lock():
            self.settled.value += 1

    async def _everyone_settled(self) -> None:
        """Wait until every client of the run has connected or failed, so that no listener
        misses a message only because its worker started late on a busy machine."""
        while self.settled.value < self.plan.total_clients and time.time() < self.plan.send_until:
            await asyncio.sleep(0.01)

    async def _send(self, link: "_Link", plan: ClientPlan) -> None:
        await asyncio.sleep(max(0.0, self.plan.send_from - time.time()))
        await self._everyone_settled()
        interval = 1.0 / plan.rate
        next_at = time.time()
        sent = 0
        while time.time() < self.plan.send_until and (
            plan.messages is None or sent < plan.messages
        ):
            delay = next_at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # Back-pressure: wait while the server is not reading what we already sent.
            while link.backlog() > WRITE_BUFFER_LIMIT:
                await asyncio.sleep(0.001)
            link.chat.send(protocol.stamped_message(next(link.chat.message_acks)))
            sent += 1
            self.counters.sent += 1
            next_at += interval


# Ack ids of the two handshake events a --room run waits for; messages use the ones after.
_LOGGED_IN, _JOINED = 1, 2
_FIRST_MESSAGE_ACK = 3


class _ChatClient:
    """One client's side of the chat, whatever carries its packets: the handshake, pongs,
    the acks of its messages (accepted or refused, and why) and the deliveries it sees."""

    def __init__(
        self, worker: _Worker, index: int, sender: bool, send: Callable[[str], None]
    ) -> None:
        self.worker = worker
        self.index = index
        self.send = send
        # A chat that requires a login before `new message` (escala's does) would refuse
        # an anonymous sender, so senders log in even when listeners do not.
        # Joining a room needs a login too.
        self.logs_in = sender or worker.plan.add_user or worker.plan.room is not None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closing = False
        self.message_acks = itertools.count(_FIRST_MESSAGE_ACK)

    async def handshaken(self, give_up: Callable[[], None]) -> None:
        """Wait for the chat's handshake to finish; on failure or timeout, `give_up`."""
        try:
            await asyncio.wait_for(self.ready, HANDSHAKE_TIMEOUT_S)
        except BaseException:
            give_up()
            raise

    def on_packet(self, packet: str) -> None:
        if packet == protocol.EIO_PING:
            self.send(protocol.PONG_PACKET)
        elif not self.ready.done():
            self._handshake(packet)
        elif (stamp := protocol.message_stamp(packet)) is not None:
            now = time.time_ns()
            self.worker.counters.delivered += 1
            self.worker.timeline.record(
                int(now / 1e9 - self.worker.plan.started), (now - stamp) / 1e6
            )
        elif (acked := protocol.any_ack(packet)) is not None and acked[0] >= _FIRST_MESSAGE_ACK:
            why = protocol.refusal(acked[1])
            if why is None:
                self.worker.counters.accepted += 1
            else:
                self.worker.counters.refuse(why)

    def _handshake(self, packet: str) -> None:
        if packet.startswith(protocol.EIO_OPEN):
            self.send(protocol.connect_packet(self.worker.plan.tokens.get(self.index)))
        elif packet.startswith(protocol.CONNECT_PACKET):
            if self.logs_in:
                self.send(
                    protocol.event(
                        "add user", f"load-{self.worker.plan.tag}-{self.index}", ack=_LOGGED_IN
                    )
                )
            if self.worker.plan.room is None:
                self.ready.set_result(None)
        elif (reply := protocol.ack_reply(packet, _LOGGED_IN)) is not None:
            # With --room: the join goes once the login is done (the server handles
            # events concurrently, so sending both at once could join before the login).
            if self._refused(reply, "log in"):
                return
            self.send(protocol.event("join", self.worker.plan.room, ack=_JOINED))
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


class _Link(Protocol):
    """What carries one client's packets: a websocket, or long-polling requests."""

    chat: _ChatClient

    async def open(self) -> None:
        """Connect and finish the chat's handshake (raises if either fails)."""
        ...

    async def wait_closed(self) -> None: ...

    def backlog(self) -> int:
        """Bytes sent but not yet taken by the server."""
        ...

    def close(self) -> None: ...


class _WebSocketLink(WSListener):
    """One websocket; frames handled in picows's callback without a task per frame."""

    def __init__(self, worker: _Worker, index: int, sender: bool) -> None:
        self.worker = worker
        self.chat = _ChatClient(worker, index, sender, self._send)
        self.ws: WSTransport | None = None

    async def open(self) -> None:
        ws, _ = await ws_connect(
            lambda: self, self.worker.plan.engine_url, websocket_handshake_timeout=30
        )
        await self.chat.handshaken(ws.disconnect)

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.ws = transport  # before the first frame, which may come before ws_connect returns

    def _send(self, packet: str) -> None:
        assert self.ws is not None
        self.ws.send(WSMsgType.TEXT, packet.encode())

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.disconnect()
        elif frame.msg_type == WSMsgType.TEXT:
            self.chat.on_packet(frame.get_payload_as_utf8_text())

    async def wait_closed(self) -> None:
        assert self.ws is not None
        await self.ws.wait_disconnected()

    def backlog(self) -> int:
        assert self.ws is not None
        return int(self.ws.underlying_transport.get_write_buffer_size())

    def close(self) -> None:
        if self.ws is not None:
            self.ws.disconnect()


class _PollingLink:
    """HTTP long-polling, as a client that never upgrades: one held GET at a time, and
    what the client sends in POSTs (packets queued meanwhile leave together)."""

    def __init__(
        self, worker: _Worker, index: int, sender: bool, http: aiohttp.ClientSession
    ) -> None:
        self.http = http
        self.url = worker.plan.engine_url
        self.chat = _ChatClient(worker, index, sender, self._send)
        self.outgoing: list[str] = []
        self.queued_bytes = 0
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        async with self.http.get(self.url) as r:
            opened = await r.text()
            if r.status != 200 or not opened.startswith(protocol.EIO_OPEN):
                raise ConnectionError(f"polling handshake refused: {r.status} {opened:.200}")
        sid = json.loads(opened[1:])["sid"]
        self.url = f"{self.url}&sid={sid}"
        self.tasks = [asyncio.create_task(self._reader()), asyncio.create_task(self._writer())]
        self.chat.on_packet(opened)
        await self.chat.handshaken(self.close)

    def _send(self, packet: str) -> None:
        self.outgoing.append(packet)
        self.queued_bytes += len(packet)
        self.wake.set()

    async def _reader(self) -> None:
        while True:
            async with self.http.get(self.url) as r:
                body = await r.text()
                if r.status != 200:
                    return
            for packet in body.split(protocol.RECORD_SEPARATOR):
                self.chat.on_packet(packet)

    async def _writer(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.outgoing, self.queued_bytes = self.outgoing, [], 0
            async with self.http.post(self.url, data=protocol.RECORD_SEPARATOR.join(batch)) as r:
                await r.read()
                if r.status != 200:
                    return

    async def wait_closed(self) -> None:
        await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)

    def backlog(self) -> int:
        return self.queued_bytes

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()


def run_worker(plan: WorkerPlan, queue: "Queue[Any]", settled: "Synchronized[int]") -> None:
    """Process entry point: run the plan on uvloop when it is installed."""
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(_Worker(plan, settled).run(queue))
