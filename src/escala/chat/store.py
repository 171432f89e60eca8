"""Message history: one small interface, SQLite by default, PostgreSQL for many replicas.

`add` is idempotent on `client_offset`, which is what gives the tutorial's exactly-once
delivery: a client retrying the same message gets the stored record back, not a copy.
Both stores keep their schema under a version number (a list of migrations applied in
order on `open`), so a replica started on an older file or database brings it up to date.
"""

import abc
import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from escala.chat.rules import MAX_ID

log = logging.getLogger("escala.chat.store")

Record = dict[str, Any]
Row = tuple[str, str, str, float, str | None]
"""A message to insert: room, username, text, ts, client_offset."""

# Migration n (1-based) brings a schema at version n-1 to version n. Version 1 is the
# table the first escala created without a version table, hence IF NOT EXISTS.
SQLITE_MIGRATIONS = [
    """
    CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room TEXT NOT NULL,
        username TEXT NOT NULL,
        text TEXT NOT NULL,
        ts REAL NOT NULL,
        client_offset TEXT UNIQUE
    );
    CREATE INDEX IF NOT EXISTS messages_room_id ON messages (room, id);
    """,
    "CREATE INDEX messages_ts ON messages (ts);",  # retention by age: `prune`
]


@dataclass(frozen=True)
class Retention:
    """How much history is kept: messages older than `max_age_s` seconds, and beyond
    the newest `max_per_room` of their room, are deleted by `prune` (0: no such limit).
    A pruned message's clientOffset goes with it: a retry that late is a new message."""

    max_age_s: float = 0.0
    max_per_room: int = 0

    def cutoff(self, now: float) -> float:
        """Messages stamped before this are too old (0: none are)."""
        return now - self.max_age_s if self.max_age_s > 0 else 0.0


PRUNE_EVERY_S = 60.0
# The newest `max_per_room` of each room survive; both stores understand this SQL.
BEYOND_COUNT = (
    "DELETE FROM messages WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
    "(PARTITION BY room ORDER BY id DESC) AS n FROM messages) AS ranked WHERE n > {keep})"
)


class StoreError(RuntimeError):
    """The history store cannot be used (unreachable, or a schema newer than this code)."""


class Store(Protocol):
    async def open(self) -> None:
        """Connect and bring the schema to the current version; raises StoreError."""
        ...

    async def close(self) -> None:
        """Finish pending writes, then disconnect."""
        ...

    async def ping(self) -> bool: ...
    async def add(
        self, room: str, username: str, text: str, client_offset: str | None = None
    ) -> tuple[Record, bool]:
        """Store a message; returns (record, created). created is False for a retry."""
        ...

    async def recent(self, room: str, limit: int, before: int | None = None) -> list[Record]:
        """The last `limit` messages of `room` (before id `before`, if given), oldest first."""
        ...

    async def prune(self, retention: Retention) -> int:
        """Delete what `retention` no longer keeps; returns how many messages went."""
        ...

    async def since(self, room: str, after_id: int, limit: int) -> list[Record]:
        """The first `limit` messages of `room` after id `after_id`, oldest first: a page,
        never the whole history (a replay from offset 0 would read every message)."""
        ...


async def keep_pruning(store: Store, retention: Retention, every: float = PRUNE_EVERY_S) -> None:
    """Prune at start-up, then every `every` seconds, for as long as the server runs.
    A failed prune (the database away) is logged and tried again next time."""
    if not (retention.max_age_s > 0 or retention.max_per_room > 0):
        return
    while True:
        try:
            if gone := await store.prune(retention):
                log.info("history retention: %d messages deleted", gone)
        except Exception as e:
            log.warning("history retention: pruning failed (%s); trying again later", e)
        await asyncio.sleep(every)


COLUMNS = "id, room, username, text, ts"
NO_ID = MAX_ID
"""Above every message id: `recent` without `before`."""


def record(row: Any) -> Record:
    """A stored message as the chat passes it around, from a row in COLUMNS order."""
    return {"id": row[0], "room": row[1], "username": row[2], "text": row[3], "ts": row[4]}


def pending_migrations(migrations: list[str], current: int) -> list[tuple[int, str]]:
    """(version, sql) still to apply to a schema at `current`; refuses a newer schema."""
    if current > len(migrations):
        raise StoreError(
            f"history schema is version {current}, newer than this escala knows "
            f"({len(migrations)}); upgrade escala"
        )
    return list(enumerate(migrations, start=1))[current:]


def open_store(database: str | None, data_dir: Path) -> Store:
    """PostgreSQL when `database` is a URL, else SQLite under `data_dir`.

    asyncpg is imported only when PostgreSQL is asked for.
    """
    if database:
        from escala.chat.pg_store import PostgresStore

        return PostgresStore(database)
    return SQLiteStore(data_dir / "chat.sqlite3")


Added = tuple[Record, bool]


class GroupCommit:
    """Write concurrent `add`s together: one transaction, so one disk sync, per batch.

    Adds that arrive while a batch is being written wait and form the next batch, so
    throughput grows with the number of concurrent senders instead of being capped by
    syncs per second, and a lone sender waits for nothing. `write` inserts a batch in
    one transaction and returns a result per row, in order. A batch that fails is
    retried row by row, so one bad row fails alone.
    """

    def __init__(self, write: Callable[[list[Row]], Awaitable[list[Added]]]) -> None:
        self.write = write
        self._queue: list[tuple[Row, asyncio.Future[Added]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, row: Row) -> Added:
        future: asyncio.Future[Added] = asyncio.get_running_loop().create_future()
        self._queue.append((row, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queue())
        return await future

    async def flush(self) -> None:
        """Wait until everything queued so far is written."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write_queue(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                rows = [row for row, _ in batch]
                results: list[Added | Exception]
                try:
                    results = list(await self.write(rows))
                except Exception:
                    results = [await self._write_one(row) for row in rows]
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._writer = None

    async def _write_one(self, row: Row) -> Added | Exception:
        try:
            (result,) = await self.write([row])
        except Exception as e:
            return e
        return result


class BatchedStore(abc.ABC):
    """What both stores share: `add` goes through a `GroupCommit` to `_write_batch`."""

    def __init__(self) -> None:
        self._batches = GroupCommit(self._write_batch)

    async def add(
        self, room: str, username: str, text: str, client_offset: str | None = None
    ) -> tuple[Record, bool]:
        return await self._batches.add((room, username, text, time.time(), client_offset))

    @abc.abstractmethod
    async def _write_batch(self, rows: list[Row]) -> list[Added]:
        """Insert `rows` in one transaction; a known client_offset returns its record."""


class SQLiteStore(BatchedStore):
    """History in one SQLite file; fine for one replica, use PostgreSQL for many.

    All SQLite calls run on one dedicated thread,
    which owns the connection: one thread hop per batch, not per statement.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("store is not open")
        return self._conn

    async def _call(self, fn: Any, *args: Any) -> Any:
        if self._thread is None:
            raise StoreError("store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"cannot create the history folder {self.path.parent}: {e.strerror}; "
                "give --data-dir a folder escala may write to"
            ) from e
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="escala-sqlite")
        await self._call(self._open)

    def _open(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")  # where a file that is not SQLite fails
            # WAL + NORMAL: a commit no longer waits for a disk sync (the WAL is synced at
            # checkpoints). Committed messages survive a crash of escala, not of the OS or
            # the power; on a loaded disk the per-commit sync was most of a message's
            # latency (docs/performance.md, scenario 2).
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as e:
            raise StoreError(f"cannot open SQLite history {self.path}: {e}") from e
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        (current,) = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        for version, sql in pending_migrations(SQLITE_MIGRATIONS, current):
            conn.executescript(
                f"BEGIN; {sql}; INSERT INTO schema_version VALUES ({version}); COMMIT;"
            )
        self._conn = conn

    async def close(self) -> None:
        await self._batches.flush()
        if self._thread is not None:
            if self._conn is not None:
                await self._call(self._conn.close)
                self._conn = None
            self._thread.shutdown()
            self._thread = None

    async def ping(self) -> bool:
        try:
            await self._call(self.conn.execute, "SELECT 1")
        except (StoreError, sqlite3.Error):
            return False
        return True

    async def _write_batch(self, rows: list[Row]) -> list[Added]:
        return await self._call(self._insert, rows)  # type: ignore[no-any-return]

    def _insert(self, rows: list[Row]) -> list[Added]:
        out = []
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for room, username, text, ts, offset in rows:
                cur = conn.execute(
                    "INSERT INTO messages (room, username, text, ts, client_offset) "
                    "VALUES (?,?,?,?,?) ON CONFLICT (client_offset) DO NOTHING",
                    (room, username, text, ts, offset),
                )
                if cur.rowcount == 1:
                    out.append((record((cur.lastrowid, room, username, text, ts)), True))
                else:
                    row = conn.execute(
                        f"SELECT {COLUMNS} FROM messages WHERE client_offset = ?", (offset,)
                    ).fetchone()
                    out.append((record(row), False))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return out

    async def recent(self, room: str, limit: int, before: int | None = None) -> list[Record]:
        rows = await self._call(
            self._select,
            f"SELECT {COLUMNS} FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (room, NO_ID if before is None else before, limit),
        )
        return [record(r) for r in reversed(rows)]

    async def since(self, room: str, after_id: int, limit: int) -> list[Record]:
        rows = await self._call(
            self._select,
            f"SELECT {COLUMNS} FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?",
            (room, after_id, limit),
        )
        return [record(r) for r in rows]

    async def prune(self, retention: Retention) -> int:
        return await self._call(self._prune, retention.cutoff(time.time()), retention.max_per_room)  # type: ignore[no-any-return]

    def _prune(self, cutoff: float, keep: int) -> int:
        gone = self.conn.execute("DELETE FROM messages WHERE ts < ?", (cutoff,)).rowcount
        if keep > 0:
            gone += self.conn.execute(BEYOND_COUNT.format(keep=int(keep))).rowcount
        return int(gone)

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()
