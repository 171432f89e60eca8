"""Broadcasts across replicas of the fast server, through Redis pub/sub.

With `--redis`, a room broadcast must reach that room's members on every replica. Each
replica delivers its own broadcasts locally at once and publishes the encoded packet on
one channel; the others frame it and write it to their local members. The broadcasts
queued in one loop iteration go out as one Redis message (one PUBLISH), and a packet is
encoded once by the replica that made it, never re-encoded by the ones that relay it.

One message per batch, not per broadcast: profiled with two replicas under fan-out, a
third of each replica's time went to redis-py parsing one pub/sub message per broadcast
(docs/performance.md, "Two replicas"). And a receiving replica writes each run of
consecutive broadcasts to one room at once (`runs`): one step per member for the run,
not one per member per broadcast (docs/performance.md, "Relayed runs").
"""

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator

import orjson
import redis.asyncio as aioredis

log = logging.getLogger("escala.chat.relay")

CHANNEL = b"escala:chat:broadcast"
RETRY_S = 1.0

Run = list[tuple[str | None, bytes]]
"""Consecutive broadcasts to one room, in order: (skip sid, Engine.IO packet) each."""

Deliver = Callable[[str, Run], None]
"""Write a run of broadcasts to a room's local members: (room, run)."""


class RelayUnavailable(RuntimeError):
    """Redis could not be reached when the replica started."""


class RedisRelay:
    """One replica's side of the channel: publish ours, deliver the others'.

    A message is `origin \\n` then, per broadcast, `[room, skip, size] \\n` and the
    packet's `size` bytes; the origin is random per process, so a replica ignores its own
    broadcasts coming back.
    """

    def __init__(self, url: str) -> None:
        self.origin = secrets.token_hex(8).encode()
        self.redis = aioredis.from_url(url)
        self._queue: list[bytes] = []
        self._wake = asyncio.Event()
        self._pubsub: aioredis.client.PubSub

    def publish(self, room: str, skip: str | None, packet: bytes) -> None:
        self._queue.append(pack(room, skip, packet))
        self._wake.set()

    async def start(self) -> None:
        """Subscribe; raises RelayUnavailable when Redis cannot be reached."""
        self._pubsub = self.redis.pubsub()
        try:
            await self._pubsub.subscribe(CHANNEL)
        except (aioredis.RedisError, OSError) as e:
            raise RelayUnavailable(f"cannot subscribe on Redis: {e}") from e

    async def run(self, deliver: Deliver) -> None:
        """Publish ours and deliver the others' until cancelled (after `start`).

        When Redis goes away, subscribe again every RETRY_S seconds: a Redis restart must
        not cut the replicas apart for good (python-socketio's manager reconnects too).
        """
        try:
            while True:
                try:
                    async with asyncio.TaskGroup() as tasks:
                        tasks.create_task(self._publisher())
                        tasks.create_task(self._subscriber(self._pubsub, deliver))
                except* (aioredis.RedisError, OSError) as lost:
                    log.warning(
                        "Redis relay lost (%s): broadcasts do not reach other replicas "
                        "until it is back",
                        lost.exceptions[0],
                    )
                await self._resubscribe()
        finally:
            await self._pubsub.aclose()
            await self.redis.aclose()

    async def _resubscribe(self) -> None:
        """Subscribe on a new connection, retrying until Redis answers. What was broadcast
        meanwhile is dropped, not sent late: clients catch up from history."""
        self._queue.clear()
        while True:
            await asyncio.sleep(RETRY_S)
            with contextlib.suppress(aioredis.RedisError, OSError):
                await self._pubsub.aclose()
            self._pubsub = self.redis.pubsub()
            try:
                await self._pubsub.subscribe(CHANNEL)
            except (aioredis.RedisError, OSError):
                continue
            log.info("Redis relay back: broadcasts reach other replicas again")
            return

    async def _publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            await self.redis.publish(CHANNEL, b"".join([self.origin, b"\n", *batch]))

    async def _subscriber(self, pubsub: aioredis.client.PubSub, deliver: Deliver) -> None:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            data: bytes = message["data"]
            start = data.index(b"\n") + 1
            if data[: start - 1] == self.origin:
                continue
            for room, run in runs(unpack(data, start)):
                deliver(room, run)


def pack(room: str, skip: str | None, packet: bytes) -> bytes:
    """One broadcast as it travels in a relayed message (after the origin line)."""
    return orjson.dumps([room, skip, len(packet)]) + b"\n" + packet


def unpack(data: bytes, start: int) -> Iterator[tuple[str, str | None, bytes]]:
    """The broadcasts of one relayed message, from `start` (after the origin line)."""
    while start < len(data):
        end = data.index(b"\n", start)
        room, skip, size = orjson.loads(data[start:end])
        start = end + 1 + size
        yield room, skip, data[end + 1 : start]


def runs(broadcasts: Iterator[tuple[str, str | None, bytes]]) -> Iterator[tuple[str, Run]]:
    """Consecutive broadcasts to the same room, grouped: a replica writes such a run to
    each of its members at once, where one broadcast at a time would cost a per-member
    step for every packet. Only consecutive ones, so that a member of several rooms gets
    the packets in the order they were sent."""
    room: str | None = None
    run: Run = []
    for to, skip, packet in broadcasts:
        if to != room and run:
            yield room, run  # type: ignore[misc]
            run = []
        room = to
        run.append((skip, packet))
    if run:
        yield room, run  # type: ignore[misc]
