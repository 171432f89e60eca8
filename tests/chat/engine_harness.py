"""An `Engine` with the real chat behind it, driven packet by packet without sockets.

The flood and fuzz tests feed Engine.IO packets straight into `Engine.receive` and read
what each client would get from its long-polling queue: the real codec, rate limits,
`ChatService`, SQLite history and rooms, minus the network.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson

from escala.chat import rules
from escala.chat.engine import Engine, EngineLimits, Session
from escala.chat.metrics import Metrics
from escala.chat.outbox import PollQueue
from escala.chat.presence import LocalPresence
from escala.chat.rooms import Rooms
from escala.chat.service import ChatService
from escala.chat.store import SQLiteStore


@asynccontextmanager
async def engine(
    tmp: Path, limits: EngineLimits = EngineLimits(), chat: rules.Limits = rules.Limits()
) -> AsyncIterator[Engine]:
    store = SQLiteStore(tmp / "chat.sqlite3")
    await store.open()
    metrics = Metrics()
    rooms = Rooms(metrics)
    service = ChatService(rooms, store, LocalPresence(), chat, metrics)
    try:
        yield Engine(service, rooms, limits)
    finally:
        await settle_tasks()
        await store.close()


async def settle_tasks() -> None:
    """Let every spawned service call finish (they may spawn more)."""
    for _ in range(1000):
        await asyncio.sleep(0)  # callbacks due now (outbox and polling flushes)
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if not pending:
            return
        await asyncio.wait(pending, timeout=1)


async def client(eng: Engine, name: str | None = None, ip: str = "10.0.0.1") -> Session:
    """A long-polling session, connected to the chat, logged in as `name` if given."""
    queue = PollQueue()
    session = Session(queue, lambda: None, poll=queue, ip=ip)
    eng.open(session, upgrades=[])
    assert eng.receive(session, b"40")
    await settle_tasks()
    if name is not None:
        assert eng.receive(session, b"42" + orjson.dumps(["add user", name]))
        await settle_tasks()
    received(session)
    return session


def received(session: Session) -> list[bytes]:
    """Everything queued for the client since the last call."""
    assert session.poll is not None
    return session.poll.take()


def events(packets: list[bytes], name: str) -> list[object]:
    """The arguments of every `name` event among `packets`."""
    out = []
    for p in packets:
        if p.startswith(b"42"):
            args = orjson.loads(p[2:])
            if args[0] == name:
                out.append(args[1] if len(args) > 1 else None)
    return out


def acks(packets: list[bytes]) -> list[object]:
    """The first argument of every ACK among `packets`."""
    out = []
    for p in packets:
        if p.startswith(b"43"):
            body = p[2:].lstrip(b"0123456789")
            args = orjson.loads(body)
            out.append(args[0] if args else None)
    return out
