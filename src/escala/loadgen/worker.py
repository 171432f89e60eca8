"""One load-generating process: a share of the clients on one event loop.

The runner starts several of these so the generator spreads over cores. A worker only
talks to its parent through a multiprocessing queue: a progress snapshot every half
second, then its counters and latencies once the run's deadline has passed.
"""

import asyncio
import contextlib
import time
from dataclasses import dataclass, replace
from multiprocessing.queues import Queue
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from escala.loadgen import protocol
from escala.loadgen.stats import Counters, Timeline

PROGRESS_EVERY_S = 0.5
# Handshakes in flight at once per worker: enough to be quick, few enough that a burst of
# thousands of clients does not overflow the server's listen backlog.
CONNECTS_IN_FLIGHT = 64


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
    add_user: bool = True


@dataclass
class WorkerResult:
    worker: int
    counters: Counters
    timeline: Timeline
    last_connected: float | None


class _Worker:
    def __init__(self, plan: WorkerPlan) -> None:
        self.plan = plan
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
                ws = await connect(
                    self.plan.ws_url, compression=None, max_size=None, open_timeout=30
                )
                await self._handshake(ws, plan.index)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.counters.errors += 1
            return
        self.counters.connected += 1
        self.last_connected = time.time()
        sender = asyncio.create_task(self._send(ws, plan)) if plan.rate > 0 else None
        try:
            await self._receive(ws)
            self.counters.disconnects += 1  # the server closed on us before the deadline
        except ConnectionClosed:
            self.counters.disconnects += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            self.counters.errors += 1
        finally:
            if sender is not None:
                sender.cancel()
            with contextlib.suppress(Exception):
                await asyncio.shield(ws.close())

    async def _handshake(self, ws: ClientConnection, index: int) -> None:
        opened = await ws.recv()
        if not isinstance(opened, str) or not opened.startswith(protocol.EIO_OPEN):
            raise ConnectionError(f"expected an Engine.IO open packet, got {opened!r:.80}")
        await ws.send(protocol.CONNECT_PACKET)
        while True:
            packet = await ws.recv()
            if packet == protocol.EIO_PING:
                await ws.send(protocol.PONG_PACKET)
            elif isinstance(packet, str) and packet.startswith(protocol.CONNECT_PACKET):
                break
            elif isinstance(packet, str) and packet.startswith("44"):
                raise ConnectionError(f"the server refused the connection: {packet[2:]:.200}")
        if self.plan.add_user:
            await ws.send(protocol.event("add user", f"load-{index}"))

    async def _receive(self, ws: ClientConnection) -> None:
        started = self.plan.started
        counters = self.counters
        timeline = self.timeline
        stamp_of = protocol.message_stamp
        async for packet in ws:
            if not isinstance(packet, str):
                continue
            if packet == protocol.EIO_PING:
                await ws.send(protocol.PONG_PACKET)
                continue
            stamp = stamp_of(packet)
            if stamp is None:
                continue
            now = time.time_ns()
            counters.delivered += 1
            timeline.record(int(now / 1e9 - started), (now - stamp) / 1e6)

    async def _send(self, ws: ClientConnection, plan: ClientPlan) -> None:
        await asyncio.sleep(max(0.0, self.plan.send_from - time.time()))
        interval = 1.0 / plan.rate
        next_at = time.time()
        sent = 0
        while time.time() < self.plan.send_until and (
            plan.messages is None or sent < plan.messages
        ):
            delay = next_at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(protocol.stamped_message())
            sent += 1
            self.counters.sent += 1
            next_at += interval


def run_worker(plan: WorkerPlan, queue: "Queue[Any]") -> None:
    """Process entry point: run the plan on uvloop when it is installed."""
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(_Worker(plan).run(queue))
