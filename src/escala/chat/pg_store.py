"""History in PostgreSQL (asyncpg), so every replica of the chat shares one history.

Same `Store` interface, group commit and exactly-once on `client_offset` as SQLite: the
insert is `ON CONFLICT (client_offset) DO NOTHING`, and a retry reads the stored row
back. Replicas that start together migrate under an advisory lock, so only one of them
applies each schema version; writers take another, so ids commit in order across
replicas.
"""

import time
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from escala.chat.store import (
    BEYOND_COUNT,
    COLUMNS,
    NO_ID,
    Added,
    BatchedStore,
    Record,
    Retention,
    Row,
    StoreError,
    pending_migrations,
    record,
)

MIGRATIONS = [
    """
    CREATE TABLE messages (
        id BIGSERIAL PRIMARY KEY,
        room TEXT NOT NULL,
        username TEXT NOT NULL,
        text TEXT NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        client_offset TEXT UNIQUE
    );
    CREATE INDEX messages_room_id ON messages (room, id);
    """,
    "CREATE INDEX messages_ts ON messages (ts);",  # retention by age: `prune`
]

# Constants shared by every escala replica, naming the advisory locks held while
# migrating and while writing a batch.
MIGRATION_LOCK = 0x657363616C61
WRITE_LOCK = MIGRATION_LOCK + 1


def describe(url: str) -> str:
    """host:port/database of a URL, never its user or password (for error messages)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"


class PostgresStore(BatchedStore):
    """A connection pool to one PostgreSQL database; the schema lives in its `public`."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        super().__init__()
        self.url = url
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("store is not open")
        return self._pool

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self.pool_size, timeout=10
            )
        except (OSError, asyncpg.PostgresError, TimeoutError) as e:
            raise StoreError(f"cannot reach PostgreSQL at {describe(self.url)}: {e}") from e
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
            for version, sql in pending_migrations(MIGRATIONS, current):
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_version VALUES ($1)", version)

    async def close(self) -> None:
        await self._batches.flush()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ping(self) -> bool:
        try:
            await self.pool.fetchval("SELECT 1", timeout=2)
        except (StoreError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return False
        return True

    async def _write_batch(self, rows: list[Row]) -> list[Added]:
        """Writers take a lock shared by every replica, so ids are handed out and
        committed in the same order: a reader that has seen id N (the tutorial's
        serverOffset) can never later miss a message with an id below N.
        """
        out = []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            for room, username, text, ts, offset in rows:
                row = await conn.fetchrow(
                    "INSERT INTO messages (room, username, text, ts, client_offset) "
                    "VALUES ($1, $2, $3, $4, $5) "
                    f"ON CONFLICT (client_offset) DO NOTHING RETURNING {COLUMNS}",
                    room,
                    username,
                    text,
                    ts,
                    offset,
                )
                if row is not None:
                    out.append((record(row), True))
                    continue
                row = await conn.fetchrow(
                    f"SELECT {COLUMNS} FROM messages WHERE client_offset = $1", offset
                )
                out.append((record(row), False))
        return out

    async def recent(self, room: str, limit: int, before: int | None = None) -> list[Record]:
        rows = await self._fetch(
            f"SELECT {COLUMNS} FROM messages WHERE room = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            room,
            NO_ID if before is None else before,
            limit,
        )
        return list(reversed(rows))

    async def since(self, room: str, after_id: int, limit: int) -> list[Record]:
        return await self._fetch(
            f"SELECT {COLUMNS} FROM messages WHERE room = $1 AND id > $2 ORDER BY id LIMIT $3",
            room,
            after_id,
            limit,
        )

    async def prune(self, retention: Retention) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            done = await conn.execute(
                "DELETE FROM messages WHERE ts < $1", retention.cutoff(time.time())
            )
            gone = int(done.split()[-1])
            if retention.max_per_room > 0:
                done = await conn.execute(BEYOND_COUNT.format(keep=int(retention.max_per_room)))
                gone += int(done.split()[-1])
        return gone

    async def _fetch(self, sql: str, *args: Any) -> list[Record]:
        return [record(r) for r in await self.pool.fetch(sql, *args)]
