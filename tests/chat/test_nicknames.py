"""Nicknames are unique per room: a second "bob" is refused, unless it is bob again.

"Again" means the same owner: the same token user (several tabs of one authenticated
user), or the same page key (a tab reconnecting while its old connection lingers). On a
real replica with python-socketio, with `ChatService` alone for the room switch, and on
Redis presence for replicas sharing rooms.
"""

import asyncio
import secrets
from pathlib import Path

from escala.chat import rules
from escala.chat.auth import mint
from escala.chat.metrics import Metrics
from escala.chat.presence import LocalPresence, RedisPresence
from escala.chat.service import ChatService
from escala.chat.store import SQLiteStore
from tests.chat.servers import logged_replica
from tests.chat.test_server import Client
from tests.chat.test_service import Recorder


async def test_a_second_bob_is_refused_and_the_first_keeps_his_name(chat_url: str) -> None:
    bob, impostor, shouting = Client(), Client(), Client()
    for c in (bob, impostor, shouting):
        await c.sio.connect(chat_url, transports=["websocket"])
    assert (await bob.sio.call("add user", "bob"))["username"] == "bob"
    for c, nick in ((impostor, "bob"), (shouting, " BOB ")):
        reply = await c.sio.call("add user", nick)
        assert "already taken in #lobby" in reply["error"], reply
        assert "already taken" in (await c.next("chat error"))["error"]
    assert (await bob.sio.call("users"))["users"] == ["bob"]
    assert (await impostor.sio.call("add user", "bobby"))["username"] == "bobby"
    for c in (bob, impostor, shouting):
        await c.sio.disconnect()


async def test_the_same_page_key_or_token_user_may_hold_a_name_twice(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(32)
    (tmp_path / "secret").write_text(secret)
    with logged_replica(tmp_path, "--auth-secret-file", str(tmp_path / "secret")) as chat:
        tabs = [Client() for _ in range(3)]
        for tab, user in zip(tabs, ("u1", "u1", "u2"), strict=True):
            token = mint(secret.encode(), user, "ana", 60)
            await tab.sio.connect(chat.url, auth={"token": token}, transports=["websocket"])
        assert (await tabs[0].sio.call("add user", "x"))["username"] == "ana"
        assert (await tabs[1].sio.call("add user", "x"))["username"] == "ana"  # 2nd tab
        assert "already taken" in (await tabs[2].sio.call("add user", "x"))["error"]
        for tab in tabs:
            await tab.sio.disconnect()

    key = secrets.token_hex(16)
    (tmp_path / "anonymous").mkdir()
    with logged_replica(tmp_path / "anonymous") as chat:
        old, again, other = Client(), Client(), Client()
        for c, auth in ((old, {"key": key}), (again, {"key": key}), (other, {"key": "x" * 20})):
            await c.sio.connect(chat.url, auth=auth, transports=["websocket"])
        assert "error" not in await old.sio.call("add user", "cy")
        assert "error" not in await again.sio.call("add user", "cy")  # the same page, back
        assert "already taken" in (await other.sio.call("add user", "cy"))["error"]
        for c in (old, again, other):
            await c.sio.disconnect()


async def test_moving_into_a_room_where_the_name_is_taken_is_refused(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "chat.sqlite3")
    await store.open()
    presence = LocalPresence()
    service = ChatService(Recorder(), store, presence, rules.Limits(), Metrics())
    try:
        for sid in ("s1", "s2"):
            await service.connect(sid)
        await service.handle("s1", "add user", ("dee",))
        await service.handle("s1", "join", ("kitchen",))
        await service.handle("s2", "add user", ("dee",))  # free in the lobby now
        refused = await service.handle("s2", "join", ("kitchen",))
        assert "'dee' is already taken in #kitchen" in refused["error"]
        assert await presence.users("kitchen") == ["dee"]
        assert await presence.users("lobby") == ["dee"]  # s2 stayed where it was
    finally:
        await store.close()


async def test_redis_presence_sees_a_name_taken_on_another_replica(redis_url: str) -> None:
    one, two = RedisPresence(redis_url), RedisPresence(redis_url)
    for p in (one, two):
        await p.start()
    try:
        assert await one.claim("lobby", "s1", "Eve", "user:e")
        assert not await two.claim("lobby", "s2", "eve", "sid:s2")
        assert await two.users("lobby") == ["Eve"]  # the refused claim listed nobody
        assert await two.claim("lobby", "s3", "eve", "user:e")  # Eve's own second tab
        assert await two.claim("kitchen", "s2", "eve", "sid:s2")  # another room
        await one.leave("lobby", "s1")
        await two.leave("lobby", "s3")
        assert await two.claim("lobby", "s4", "EVE", "sid:s4")
    finally:
        await asyncio.gather(one.close(), two.close())


async def test_one_free_name_asked_for_on_two_replicas_at_once_is_granted_once(
    redis_url: str,
) -> None:
    """The check and the listing are one script on Redis: of twenty logins racing for
    one name on two replicas, exactly one gets it (a check-then-write let several)."""
    one, two = RedisPresence(redis_url), RedisPresence(redis_url)
    for p in (one, two):
        await p.start()
    try:
        claims = [(one, two)[i % 2].claim("lobby", f"s{i}", "zoe", f"sid:s{i}") for i in range(20)]
        granted = await asyncio.gather(*claims)
        assert granted.count(True) == 1
        assert await one.users("lobby") == ["zoe"] and await one.count("lobby") == 1
    finally:
        await asyncio.gather(one.close(), two.close())
