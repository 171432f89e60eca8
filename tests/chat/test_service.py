"""`ChatService` on its own: a recording transport, in-memory presence, SQLite history."""

import asyncio
from pathlib import Path
from typing import Any

from escala.chat import rules
from escala.chat.metrics import Metrics
from escala.chat.presence import LocalPresence
from escala.chat.service import ChatService
from escala.chat.store import SQLiteStore


class Recorder:
    """A transport that only remembers what the service asked it to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    async def send_to(self, sid: str, event: str, data: Any) -> None:
        self.sent.append((sid, event, data))

    async def broadcast(self, room: str, event: str, data: Any, skip: str | None = None) -> None:
        self.sent.append((room, event, data))

    async def enter_room(self, sid: str, room: str) -> None:
        return None

    async def leave_room(self, sid: str, room: str) -> None:
        return None

    async def disconnect(self, sid: str) -> None:
        return None


class SlowFirstLeave(LocalPresence):
    """Presence whose first `leave` waits for the test, as a Redis round trip may."""

    def __init__(self) -> None:
        super().__init__()
        self.leaving = asyncio.Event()
        self.go_on = asyncio.Event()

    async def leave(self, room: str, sid: str) -> None:
        await super().leave(room, sid)
        if not self.leaving.is_set():
            self.leaving.set()
            await self.go_on.wait()


async def _switch_room_while_disconnecting(tmp_path: Path) -> list[str]:
    store = SQLiteStore(tmp_path / "chat.sqlite3")
    await store.open()
    presence = SlowFirstLeave()
    service = ChatService(Recorder(), store, presence, rules.Limits(), Metrics())
    try:
        await service.connect("s1")
        await service.handle("s1", "add user", ("ana",))
        join = asyncio.create_task(service.handle("s1", "join", ("kitchen",)))
        await presence.leaving.wait()  # the join is half done: out of the lobby
        await service.disconnect("s1")  # the client goes away meanwhile
        presence.go_on.set()
        await join
        return await presence.users("kitchen")
    finally:
        await store.close()


def test_a_client_that_leaves_while_switching_rooms_is_not_left_in_the_new_room(
    tmp_path: Path,
) -> None:
    """The room it was moving to must not list it forever (a ghost in `users`/numUsers)."""
    assert asyncio.run(_switch_room_while_disconnecting(tmp_path)) == []


async def _switch_and_count(tmp_path: Path) -> tuple[list[tuple[str, str, Any]], Any, Any]:
    store = SQLiteStore(tmp_path / "chat.sqlite3")
    await store.open()
    recorder = Recorder()
    service = ChatService(recorder, store, LocalPresence(), rules.Limits(), Metrics())
    try:
        for sid, nick in (("s1", "ana"), ("s2", "bo")):
            await service.connect(sid)
            await service.handle(sid, "add user", (nick,))
        await service.handle("s2", "join", ("random",))
        counts = await service.handle("s1", "rooms", (["lobby", " random ", "empty"],))
        refused = await service.handle("s1", "rooms", ("lobby",))
        return recorder.sent, counts, refused
    finally:
        await store.close()


def test_a_room_switch_is_announced_as_a_move_and_rooms_are_counted(tmp_path: Path) -> None:
    """The page shows "bo moved to #random", not "bo left", and lists rooms with counts."""
    sent, counts, refused = asyncio.run(_switch_and_count(tmp_path))
    left = [d for _, event, d in sent if event == "user left"]
    joined = [d for to, event, d in sent if event == "user joined" and to == "random"]
    assert left == [{"username": "bo", "numUsers": 1, "room": "lobby", "to": "random"}]
    assert joined == [{"username": "bo", "numUsers": 1, "room": "random", "from": "lobby"}]
    assert counts == {
        "rooms": [
            {"room": "lobby", "numUsers": 1},
            {"room": "random", "numUsers": 1},
            {"room": "empty", "numUsers": 0},
        ]
    }
    assert refused == {"error": "rooms: give a list of at most 20 room names"}


async def _replay_after_offset_zero(tmp_path: Path) -> tuple[list[Any], Any, Any]:
    store = SQLiteStore(tmp_path / "chat.sqlite3")
    await store.open()
    recorder = Recorder()
    service = ChatService(recorder, store, LocalPresence(), rules.Limits(), Metrics())
    try:
        await asyncio.gather(*(store.add("lobby", "ana", f"m{n}") for n in range(250)))
        await service.connect("s1", {"serverOffset": 0})
        replayed = [d for sid, event, d in recorder.sent if event == "chat message"]
        more = [d for sid, event, d in recorder.sent if event == "history more"]
        page = await service.handle("s1", "history", ({"after": replayed[-1][1]},))
        return replayed, more, page
    finally:
        await store.close()


def test_a_replay_from_offset_zero_sends_one_page_and_the_client_asks_for_more(
    tmp_path: Path,
) -> None:
    """`auth: {serverOffset: 0}` against a long history: one page, not all of it (a client
    that never reads would otherwise cost the server the whole history in memory)."""
    replayed, more, page = asyncio.run(_replay_after_offset_zero(tmp_path))
    assert [text for text, _ in replayed] == [f"m{n}" for n in range(100)]
    assert more == [{"room": "lobby", "after": replayed[-1][1]}]
    assert [m["message"] for m in page["messages"]] == [f"m{n}" for n in range(100, 200)]
    assert page["more"] is True


async def _huge_client_offset(tmp_path: Path) -> tuple[Any, list[Any], int]:
    store = SQLiteStore(tmp_path / "chat.sqlite3")
    await store.open()
    recorder = Recorder()
    service = ChatService(recorder, store, LocalPresence(), rules.Limits(), Metrics())
    try:
        await service.connect("s1")
        await service.handle("s1", "add user", ("ana",))
        ack = await service.handle("s1", "chat message", ("x", "o" * 990_000))
        fine = await service.handle("s1", "chat message", ("y", "client-1"))
        return ack, [d for _, e, d in recorder.sent if e == "chat message"], fine
    finally:
        await store.close()


def test_a_huge_client_offset_is_refused_not_stored(tmp_path: Path) -> None:
    """clientOffset is stored and indexed: a 990 KB one per 1-character message filled
    the disk at ~22 MB/s per connection."""
    ack, broadcast, fine = asyncio.run(_huge_client_offset(tmp_path))
    assert ack == {"error": "clientOffset: at most 128 characters"}
    assert [text for text, _ in broadcast] == ["y"] and fine is None
