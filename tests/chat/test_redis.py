"""Two `escala chat serve` replicas sharing broadcasts and presence through one real Redis;
the client on A is on websocket, the one on B on long-polling."""

import asyncio
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from escala.chat.presence import RedisPresence
from tests.chat.servers import Replica, redis_argv, replicas, serve_argv
from tests.chat.test_server import Client
from tests.servers import free_port, start, stop


@pytest.fixture
def pair(tmp_path: Path, redis_url: str) -> Iterator[list[Replica]]:
    flags = ("--redis", redis_url, "--presence-ttl", "1")
    with replicas(tmp_path, *flags) as running:
        yield running


@pytest.fixture
async def on_a_and_b(pair: list[Replica]) -> AsyncIterator[tuple[Client, Client]]:
    on_a, on_b = Client(), Client()
    await on_a.sio.connect(pair[0].url, transports=["websocket"])
    await on_b.sio.connect(pair[1].url, transports=["polling"])
    yield on_a, on_b
    on_a.sio.reconnection = on_b.sio.reconnection = False
    await on_a.sio.disconnect()
    await on_b.sio.disconnect()


def _counted(replica: Replica) -> tuple[str, str]:
    """A replica's chat messages broadcast and delivered, as its /metrics shows them."""
    text = urllib.request.urlopen(replica.url + "/metrics").read().decode()
    found = dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("escala_"))
    return (found["escala_chat_messages_out_total"],
            found["escala_chat_messages_delivered_total"])  # fmt: skip


async def test_a_message_sent_on_a_reaches_b_and_b_counts_it_delivered(
    pair: list[Replica], on_a_and_b: tuple[Client, Client]
) -> None:
    on_a, on_b = on_a_and_b
    await on_b.sio.call("add user", "bo")
    await on_a.sio.call("add user", "ana")
    assert (await on_b.next("user joined"))["username"] == "ana"
    await on_a.sio.call("new message", "across replicas")
    msg = await on_b.next("new message")
    assert (msg["username"], msg["message"]) == ("ana", "across replicas")
    # the copy is written, and counted, by the replica its recipient is on; the sender's
    # own replica has no one else to write it to (and `user joined` is no chat message)
    assert _counted(pair[0]) == ("1.0", "0.0")
    assert _counted(pair[1]) == ("0.0", "1.0")


async def test_a_burst_from_a_reaches_each_client_on_b_whole_and_in_order(
    tmp_path: Path, redis_url: str
) -> None:
    """Broadcasts queued together travel as one Redis message; B writes them to each of
    its members at once (websocket and long-polling alike), and counts every copy."""
    burst = [f"message {n}" for n in range(40)]
    with replicas(tmp_path, "--redis", redis_url, "--rate", "1000") as (a, b):
        ana, on_ws, on_polling = Client(), Client(), Client()
        await ana.sio.connect(a.url, transports=["websocket"])
        await on_ws.sio.connect(b.url, transports=["websocket"])
        await on_polling.sio.connect(b.url, transports=["polling"])
        for client, name in ((on_ws, "bo"), (on_polling, "cy"), (ana, "ana")):
            await client.sio.call("add user", name)
        await asyncio.gather(*(ana.sio.emit("new message", text) for text in burst))
        for listener in (on_ws, on_polling):
            got = [(await listener.next("new message"))["message"] for _ in burst]
            assert got == burst
        assert _counted(b) == ("0.0", f"{2 * len(burst)}.0")
        for client in (ana, on_ws, on_polling):
            client.sio.reconnection = False
            await client.sio.disconnect()


async def test_presence_counts_users_on_both_replicas_and_forgets_a_crashed_one(
    pair: list[Replica], on_a_and_b: tuple[Client, Client]
) -> None:
    on_a, on_b = on_a_and_b
    assert (await on_a.sio.call("add user", "ana"))["numUsers"] == 1
    assert (await on_b.sio.call("add user", "bo"))["numUsers"] == 2
    joined = await on_a.next("user joined")
    assert (joined["username"], joined["numUsers"]) == ("bo", 2)
    assert (await on_a.sio.call("users"))["users"] == ["ana", "bo"]
    await on_b.sio.call("join", "dev")
    assert (await on_a.next("user left"))["numUsers"] == 1
    await on_b.sio.call("join", "lobby")
    assert (await on_a.next("user joined"))["numUsers"] == 2

    pair[0].proc.kill()  # a crash: replica A cannot withdraw ana
    pair[0].proc.wait()
    deadline = time.monotonic() + 20
    users = (await on_b.sio.call("users"))["users"]
    while users != ["bo"] and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        users = (await on_b.sio.call("users"))["users"]
    assert users == ["bo"]


def test_an_unreachable_redis_stops_startup_naming_host_not_password(tmp_path: Path) -> None:
    port = free_port()
    url = f"redis://:s3cret@127.0.0.1:{port}"
    argv = serve_argv(free_port(), tmp_path, "--redis", url)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert f"cannot reach Redis at 127.0.0.1:{port}" in out.stderr
    assert "s3cret" not in out.stderr + out.stdout
    assert not (tmp_path / "chat.sqlite3").exists()  # nothing created


async def test_broadcasts_cross_replicas_again_after_redis_restarts(tmp_path: Path) -> None:
    """A Redis restart must not cut the replicas apart for good while /readyz says ok."""
    port = free_port()
    argv = redis_argv(port, tmp_path)
    redis = start(argv, port)
    flags = (
        "--redis",
        f"redis://127.0.0.1:{port}",
    )
    try:
        with replicas(tmp_path, *flags) as (a, b):
            on_a, on_b = Client(), Client()
            await on_a.sio.connect(a.url, transports=["websocket"])
            await on_b.sio.connect(b.url, transports=["websocket"])
            await on_a.sio.call("add user", "ana")
            await on_b.sio.call("add user", "bo")
            stop(redis)
            redis = start(argv, port)
            heard = None
            deadline = time.monotonic() + 20
            while heard is None and time.monotonic() < deadline:
                await on_a.sio.call("new message", "are you there?")
                try:
                    heard = await asyncio.wait_for(on_b.queue("new message").get(), 1)
                except TimeoutError:
                    continue
            on_a.sio.reconnection = on_b.sio.reconnection = False
            await on_a.sio.disconnect()
            await on_b.sio.disconnect()
            assert heard is not None and heard["message"] == "are you there?"
    finally:
        stop(redis)


async def test_presence_takes_a_burst_larger_than_its_connection_pool(redis_url: str) -> None:
    """Hundreds of logins and leaves at once (a replica's clients after a drain elsewhere)
    wait for a Redis connection rather than fail and leave users listed."""
    presence = RedisPresence(redis_url)
    await presence.start()
    try:
        logins = (presence.claim("lobby", f"s{i}", f"u{i}", f"sid:s{i}") for i in range(300))
        assert all(await asyncio.gather(*logins))
        assert await presence.count("lobby") == 300
        await asyncio.gather(*(presence.leave("lobby", f"s{i}") for i in range(300)))
        assert await presence.count("lobby") == 0
    finally:
        await presence.close()


async def test_what_a_crashed_replica_left_in_redis_is_deleted_by_a_live_one(
    redis_url: str,
) -> None:
    """Its users stop counting after the TTL; a few TTLs later a live replica deletes its
    fields, so a crash leaves nothing behind in Redis."""
    live, crashed = RedisPresence(redis_url, ttl=1.0), RedisPresence(redis_url, ttl=1.0)
    for presence in (live, crashed):
        await presence.start()
    try:
        assert await live.claim("lobby", "s1", "ana", "sid:s1")
        assert await crashed.claim("lobby", "s2", "Bo", "sid:s2")
        assert await live.count("lobby") == 2
        assert not await live.claim("lobby", "s3", "bo", "sid:s3")  # Bo's, on the other one
        assert crashed._heartbeat is not None
        crashed._heartbeat.cancel()  # it stops stamping itself, and never withdraws Bo
        await asyncio.sleep(1.5)
        assert await live.count("lobby") == 1
        assert await live.users("lobby") == ["ana"]
        assert await live.claim("lobby", "s3", "bo", "sid:s3")  # the name is free again
        await live.leave("lobby", "s3")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and await _fields_of(redis_url, crashed.replica):
            await asyncio.sleep(0.2)
        assert await _fields_of(redis_url, crashed.replica) == []
        assert await live.count("lobby") == 1
    finally:
        await crashed.redis.aclose()
        await live.close()
    assert await _fields_of(redis_url, live.replica) == []  # a replica that closes withdraws


async def _fields_of(redis_url: str, replica: str) -> list[str]:
    """Every key, hash field and set member in Redis that names `replica`."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    found = []
    try:
        async for key in client.scan_iter():
            if replica in key:
                found.append(key)
            kind = await client.type(key)
            if kind == "hash":
                found += [f"{key} {f}" for f in await client.hkeys(key) if replica in f]
            elif kind == "zset":
                found += [f"{key} {m}" for m in await client.zrange(key, 0, -1) if replica in m]
    finally:
        await client.aclose()
    return found
