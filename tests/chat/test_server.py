"""A real `escala chat serve` process and real python-socketio clients, on every transport.

python-socketio's client is an implementation of the protocol independent of the
server's: each test runs with it on websocket only, on long-polling only, and on its
default (long-polling, then the upgrade to websocket).
"""

import asyncio
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.chat.servers import serve_argv
from tests.servers import free_port, start, stop

TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    "upgrade": ["polling", "websocket"],
}


@pytest.fixture(params=list(TRANSPORTS))
def transports(request: pytest.FixtureRequest) -> list[str]:
    """The python-socketio client's transports: websocket, long-polling, or both (upgrade)."""
    return TRANSPORTS[request.param]


@pytest.fixture
def chat_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start(serve_argv(port, tmp_path, "--rate", "5", "--max-message", "100"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


class Client:
    """A socket.io client that records what it receives, event by event."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient()
        self.got: dict[str, asyncio.Queue[Any]] = {}

        @self.sio.on("*")
        async def any_event(event: str, *data: Any) -> None:
            self.queue(event).put_nowait(data[0] if len(data) == 1 else data)

        @self.sio.on("disconnect")
        async def gone(reason: str = "") -> None:
            self.queue("disconnect").put_nowait(reason)

    def queue(self, event: str) -> asyncio.Queue[Any]:
        return self.got.setdefault(event, asyncio.Queue())

    async def next(self, event: str) -> Any:
        return await asyncio.wait_for(self.queue(event).get(), 10)


class Clients(list[Client]):
    """The clients a test made, all on the same transports; disconnected after the test."""

    def __init__(self, transports: list[str]) -> None:
        super().__init__()
        self.transports = transports


@pytest.fixture
async def clients(chat_url: str, transports: list[str]) -> AsyncIterator[Clients]:
    made = Clients(transports)
    yield made
    for c in made:
        await c.sio.disconnect()


async def connect(url: str, made: Clients, **kw: Any) -> Client:
    """Connect on the test's transports, and wait for the upgrade when there is one."""
    c = Client()
    await c.sio.connect(url, transports=made.transports, **kw)
    if made.transports[-1] == "websocket":
        await upgraded(c)
    made.append(c)
    return c


async def upgraded(c: Client) -> None:
    """python-socketio upgrades in the background after connecting: wait until done."""
    async with asyncio.timeout(10):
        while c.sio.transport() != "websocket":
            await asyncio.sleep(0.01)


async def test_demo_events_between_two_users(chat_url: str, clients: Clients) -> None:
    ana = await connect(chat_url, clients)
    await ana.sio.emit("add user", "ana")
    assert (await ana.next("login"))["numUsers"] == 1
    bo = await connect(chat_url, clients)
    await bo.sio.emit("add user", "bo")
    assert (await bo.next("login"))["numUsers"] == 2
    joined = await ana.next("user joined")
    assert (joined["username"], joined["numUsers"]) == ("bo", 2)
    await bo.sio.emit("typing")
    assert (await ana.next("typing")) == {"username": "bo"}
    ack = await bo.sio.call("new message", "<b>hola</b>")
    msg = await ana.next("new message")
    assert (msg["username"], msg["message"], msg["id"]) == ("bo", "<b>hola</b>", ack["id"])
    await bo.sio.disconnect()
    left = await ana.next("user left")
    assert (left["username"], left["numUsers"]) == ("bo", 1)


async def test_history_replayed_on_join_and_rooms_isolated(chat_url: str, clients: Clients) -> None:
    ana = await connect(chat_url, clients)
    await ana.sio.call("add user", "ana")
    await ana.sio.call("join", "dev")
    await ana.sio.call("new message", "in dev")
    bo = await connect(chat_url, clients)
    await bo.sio.call("add user", "bo")
    await bo.sio.call("new message", "in lobby")
    reply = await bo.sio.call("join", "dev")
    assert reply == {"room": "dev", "numUsers": 2}
    history = await bo.next("history")
    assert [m["message"] for m in history] == ["in dev"]
    assert ana.queue("new message").empty()


async def test_tutorial_offsets_and_exactly_once(chat_url: str, clients: Clients) -> None:
    a = await connect(chat_url, clients, auth={"serverOffset": 0})
    await a.sio.call("add user", "a")  # only a logged-in client may post (issue 17)
    await a.sio.call("chat message", ("first", "client-1"))
    await a.sio.call("chat message", ("first", "client-1"))  # a retry
    text, offset = await a.next("chat message")
    assert text == "first"
    late = await connect(chat_url, clients, auth={"serverOffset": 0})
    assert (await late.next("chat message")) == ("first", offset)
    await asyncio.sleep(0.3)
    assert a.queue("chat message").empty() and late.queue("chat message").empty()


def test_http_endpoints_and_client_script(chat_url: str) -> None:
    for path, needle in [
        ("/healthz", b"ok"),
        ("/readyz", b"ok"),
        ("/socket.io/socket.io.js", b"Socket.IO"),
        ("/", b"escala chat"),
    ]:
        with urllib.request.urlopen(chat_url + path) as r:
            assert r.status == 200
            assert needle in r.read()


def test_long_polling_handshake_offers_the_upgrade(chat_url: str) -> None:
    with urllib.request.urlopen(chat_url + "/socket.io/?EIO=4&transport=polling") as r:
        body = r.read().decode()
    assert body.startswith("0{") and '"upgrades":["websocket"]' in body
    assert '"maxPayload":1000000' in body


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--static", "nope"], "--static"),
        (["--redis", "http://127.0.0.1:1"], "--redis"),
        (["--database", "mysql://db"], "--database"),
    ],
)
def test_bad_flag_is_a_usage_error(tmp_path: Path, flags: list[str], named: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "escala", "chat", "serve", "--data-dir", str(tmp_path), *flags],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 2
    assert named in out.stderr
    assert not (tmp_path / "chat.sqlite3").exists()


async def test_metrics_count_messages_errors_and_clients(chat_url: str, clients: Clients) -> None:
    ana = await connect(chat_url, clients)
    await ana.sio.call("add user", "ana")
    await ana.sio.call("new message", "one")
    await ana.sio.call("new message", "")
    text = await asyncio.to_thread(
        lambda: urllib.request.urlopen(chat_url + "/metrics").read().decode()
    )
    assert "escala_chat_connected_clients 1.0" in text
    assert "escala_chat_messages_in_total 1.0" in text
    assert 'escala_chat_errors_total{reason="message"} 1.0' in text
    assert 'escala_chat_event_seconds_count{event="new message"} 2.0' in text


async def test_a_reconnecting_client_gets_exactly_what_it_missed_in_its_room(
    chat_url: str, clients: Clients
) -> None:
    ana = await connect(chat_url, clients)
    await ana.sio.call("add user", "ana")
    seen = await ana.sio.call("new message", "seen before the drop")
    await ana.sio.call("new message", "missed one")
    await ana.sio.call("join", "dev")
    dev_seen = await ana.sio.call("new message", "dev: seen")
    await ana.sio.call("new message", "dev: missed")
    back = await connect(chat_url, clients, auth={"since": seen["id"]})
    await back.sio.call("add user", "bo")
    assert [m["message"] for m in await back.next("history")] == ["missed one"]
    await back.sio.call("join", ("dev", dev_seen["id"]))
    assert [m["message"] for m in await back.next("history")] == ["dev: missed"]
    fresh = await connect(chat_url, clients)
    await fresh.sio.call("add user", "cy")
    lobby = [m["message"] for m in await fresh.next("history")]
    assert lobby == ["seen before the drop", "missed one"]


async def test_polling_and_websocket_clients_in_one_room_see_each_other_in_order(
    chat_url: str,
) -> None:
    polling, websocket = Clients(["polling"]), Clients(["websocket"])
    try:
        ana = await connect(chat_url, polling)
        bo = await connect(chat_url, websocket)
        for c, name in ((ana, "ana"), (bo, "bo")):
            await c.sio.call("add user", name)
            await c.sio.call("join", "mixed")
        for i in range(8):  # with "done", within the burst of --rate 5 (10)
            await ana.sio.emit("new message", f"ana {i}")
            await bo.sio.emit("new message", f"bo {i}")
        await ana.sio.call("new message", "ana done")
        await bo.sio.call("new message", "bo done")
        assert await texts_until(bo, "ana done") == [f"ana {i}" for i in range(8)]
        assert await texts_until(ana, "bo done") == [f"bo {i}" for i in range(8)]
        assert ana.sio.transport() == "polling" and bo.sio.transport() == "websocket"
    finally:
        for c in (*polling, *websocket):
            await c.sio.disconnect()


async def texts_until(c: Client, last: str) -> list[str]:
    """The `new message` texts `c` received before the one saying `last`."""
    texts = []
    while (msg := await c.next("new message"))["message"] != last:
        texts.append(msg["message"])
    return texts


async def test_binary_event_reaches_the_rules_and_is_refused_by_name(
    chat_url: str, clients: Clients
) -> None:
    """A binary argument (placeholders + attachments, over either transport) is decoded,
    so the chat answers it for what it is: not text. The connection stays up."""
    ana = await connect(chat_url, clients)
    await ana.sio.call("add user", "ana")
    ack = await ana.sio.call("new message", b"\x00\xffbinary")
    assert ack == {"error": "message: must be a non-empty string"}
    assert "id" in await ana.sio.call("new message", "text still works")
    assert ana.queue("disconnect").empty()
