"""Message history: one small interface, SQLite by default (PostgreSQL is not built yet).

`add` is idempotent on `client_offset`, which is what gives the tutorial's exactly-once
delivery: a client retrying the same message gets the stored record back, not a copy.
"""

import time
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    username TEXT NOT NULL,
    text TEXT NOT NULL,
    ts REAL NOT NULL,
    client_offset TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS messages_room_id ON messages (room, id);
"""

Record = dict[str, Any]


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...
    async def add(
        self, room: str, username: str, text: str, client_offset: str | None = None
    ) -> tuple[Record, bool]:
        """Store a message; returns (record, created). created is False for a retry."""
        ...

    async def recent(self, room: str, limit: int) -> list[Record]: ...
    async def since(self, room: str, after_id: int) -> list[Record]: ...


_COLUMNS = "id, room, username, text, ts"


def _record(row: Any) -> Record:
    return {"id": row[0], "room": row[1], "username": row[2], "text": row[3], "ts": row[4]}


class SQLiteStore:
    """History in one SQLite file; fine for one replica, use PostgreSQL for many."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.executescript(SCHEMA)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def ping(self) -> bool:
        try:
            await self.db.execute("SELECT 1")
        except Exception:
            return False
        return True

    async def add(
        self, room: str, username: str, text: str, client_offset: str | None = None
    ) -> tuple[Record, bool]:
        if client_offset is not None:
            async with self.db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE client_offset = ?", (client_offset,)
            ) as cur:
                row = await cur.fetchone()
            if row is not None:
                return _record(row), False
        ts = time.time()
        cur = await self.db.execute(
            "INSERT INTO messages (room, username, text, ts, client_offset) VALUES (?,?,?,?,?)",
            (room, username, text, ts, client_offset),
        )
        await self.db.commit()
        return {
            "id": cur.lastrowid,
            "room": room,
            "username": username,
            "text": text,
            "ts": ts,
        }, True

    async def recent(self, room: str, limit: int) -> list[Record]:
        async with self.db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?",
            (room, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [_record(r) for r in reversed(list(rows))]

    async def since(self, room: str, after_id: int) -> list[Record]:
        async with self.db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE room = ? AND id > ? ORDER BY id",
            (room, after_id),
        ) as cur:
            rows = await cur.fetchall()
        return [_record(r) for r in rows]
