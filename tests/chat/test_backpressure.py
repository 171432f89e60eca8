"""What one client can make the server hold: bounded on the way out (a socket is dropped
before its backlog passes the limit, not after writing past it) and on the way in (a
client whose events wait on a slow store stops being read)."""

import asyncio
from pathlib import Path

import orjson

from escala.chat import rules
from escala.chat.engine import MAX_QUEUED_EVENTS, EngineLimits
from escala.chat.outbox import Outbox, PollQueue
from escala.chat.store import SQLiteStore
from tests.chat.engine_harness import acks, client, engine, received, settle_tasks

MiB = 1024 * 1024


class SilentSocket(asyncio.Transport):
    """A client that reads nothing: every byte written stays in the write buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.buffered = 0
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.buffered += len(data)

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True


async def test_a_slow_consumer_is_dropped_before_its_backlog_passes_the_limit() -> None:
    outbox, sock = Outbox(max_backlog=8 * MiB), SilentSocket()
    frame = b"x" * 700_000
    for _ in range(40):  # 28 MB for a client that reads none of it
        for _ in range(3):
            outbox.put(sock, frame)
        await asyncio.sleep(0)  # the outbox flushes at the next loop iteration
    assert sock.aborted
    assert sock.buffered <= 8 * MiB


async def test_a_long_polling_client_that_never_polls_is_dropped_at_the_limit() -> None:
    queue, dropped = PollQueue(max_backlog=8 * MiB), []
    queue.overflow = lambda: dropped.append(True)
    for _ in range(100):
        queue.send(b"4" + b"x" * 500_000)
    assert dropped == [True]
    assert sum(map(len, queue.packets)) <= 8 * MiB


class StuckStore(SQLiteStore):
    """History whose writes wait until the test lets them through (a slow database)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.go_on = asyncio.Event()

    async def add(self, *args: object, **kw: object) -> tuple[dict[str, object], bool]:
        await self.go_on.wait()
        return await super().add(*args, **kw)  # type: ignore[arg-type]


async def test_a_client_whose_events_pile_up_is_not_read_any_further(tmp_path: Path) -> None:
    """Messages waiting on a stuck store: the client's transport is paused at the bound,
    what it had already sent beyond four times the bound is refused, and reading
    resumes once they are handled."""
    fast = EngineLimits(event_rate=1e6, ip_rate=1e6)
    async with engine(tmp_path, fast, rules.Limits(rate_per_second=1e6, burst=10**6)) as eng:
        store = StuckStore(tmp_path / "stuck.sqlite3")
        await store.open()
        eng.service.store = store
        flooder = await client(eng, "mal")
        paused: list[bool] = []
        flooder.flow = paused.append
        for n in range(1000):
            eng.receive(flooder, b"42" + str(n).encode() + orjson.dumps(["new message", "hi"]))
        await asyncio.sleep(0.05)
        assert paused == [True]
        assert flooder.queued == 4 * MAX_QUEUED_EVENTS
        refused = acks(received(flooder))
        assert len(refused) == 1000 - 4 * MAX_QUEUED_EVENTS
        assert refused[0] == {"error": "server: too many events waiting; slow down"}
        store.go_on.set()
        await settle_tasks()
        assert paused == [True, False] and flooder.queued == 0
        await store.close()
