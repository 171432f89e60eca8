"""HTTP long-polling and the upgrade, spoken by hand against a real replica.

The Socket.IO clients only send what the protocol allows; these send the rest too, per
the Engine.IO v4 protocol (https://github.com/socketio/engine.io-protocol): every refusal
is a 400 with Engine.IO's error body, the server log has no traceback, and a bystander
(python-socketio, on long-polling) keeps chatting throughout.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.chat.servers import logged_replica
from tests.chat.test_server import Client

MAX_PAYLOAD = 1_000_000


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with logged_replica(tmp_path, "--rate", "1000", "--ping-interval", "2") as running:
        yield running.url, running.log


class Poller:
    """One Engine.IO session on long-polling, by hand."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.base = url + "/socket.io/?EIO=4&transport=polling"
        self.sid = ""

    @property
    def url(self) -> str:
        return f"{self.base}&sid={self.sid}"

    async def open(self) -> dict[str, object]:
        async with self.http.get(self.base) as r:
            assert r.status == 200
            body = await r.read()
        handshake = orjson.loads(body[1:])
        self.sid = str(handshake["sid"])
        return handshake

    async def connect(self) -> None:
        """Open a session and CONNECT to the default namespace."""
        await self.open()
        assert await self.post(b"40") == (200, b"ok")

    async def get(self) -> tuple[int, bytes]:
        async with self.http.get(self.url) as r:
            return r.status, await r.read()

    async def post(self, body: bytes) -> tuple[int, bytes]:
        async with self.http.post(self.url, data=body) as r:
            return r.status, await r.read()

    async def hold_after(self, needle: bytes) -> "asyncio.Task[tuple[int, bytes]]":
        """Read until `needle` came, then start a GET the server holds (nothing to send)."""
        await self.packets_until(needle)
        held = asyncio.create_task(self.get())
        await asyncio.sleep(0.2)
        return held

    async def packets_until(self, *needles: bytes) -> list[bytes]:
        """GET until every needle was in a packet; every packet seen, in order."""
        seen: list[bytes] = []
        while not all(any(needle in p for p in seen) for needle in needles):
            status, body = await asyncio.wait_for(self.get(), 10)
            assert status == 200, body
            seen += body.split(b"\x1e")
        return seen


async def test_packets_go_both_ways_joined_by_the_record_separator(
    replica: tuple[str, Path], http: aiohttp.ClientSession
) -> None:
    p = Poller(http, replica[0])
    handshake = await p.open()
    assert handshake["upgrades"] == ["websocket"] and handshake["maxPayload"] == MAX_PAYLOAD
    assert await p.post(b"40") == (200, b"ok")
    assert (await p.packets_until(b'40{"sid"'))[0].startswith(b'40{"sid"')
    # Two events in one POST; both acks (and the login) come back, record-separated.
    assert await p.post(b'421["add user","raw"]\x1e422["users"]') == (200, b"ok")
    seen = await p.packets_until(b"431[", b"432[")
    assert b'431[{"numUsers":1,"username":"raw"}]' in seen
    assert b'432[{"room":"lobby","users":["raw"]}]' in seen


async def test_a_burst_reaches_python_socketio_on_polling_in_responses_it_accepts(
    replica: tuple[str, Path], bystander: Client
) -> None:
    """python-engineio drops a connection whose polling response holds more than 16
    packets: a burst leaves over several responses, each within that, all in order."""
    burst = [f"burst {n}" for n in range(40)]
    sender = Client()
    await sender.sio.connect(replica[0], transports=["websocket"])
    await sender.sio.call("add user", "sender")
    await asyncio.gather(*(sender.sio.emit("new message", text) for text in burst))
    got = [(await bystander.next("new message"))["message"] for _ in burst]
    await sender.sio.disconnect()
    assert got == burst  # and the bystander is still connected (its fixture checks)


async def test_upgrade_loses_and_repeats_nothing(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    """Probe, the held GET ended by a noop, messages sent meanwhile queued, `5`: the
    queued ones arrive on the websocket, each once, in order, then the rest."""
    p = Poller(http, replica[0])
    await p.open()
    await p.post(b'40\x1e421["add user","upgrader"]')
    held = await p.hold_after(b"431[")
    ws_url = p.url.replace("http://", "ws://").replace("polling", "websocket")
    async with connect(ws_url) as ws:
        await ws.send("2probe")
        assert await ws.recv() == "3probe"
        status, body = await asyncio.wait_for(held, 10)
        assert status == 200 and body.split(b"\x1e")[-1] == b"6"  # noop: polling paused
        for n in range(5):  # sent while the client is between the transports
            await bystander.sio.call("new message", f"between {n}")
        await ws.send("5")
        for n in range(5, 10):
            await bystander.sio.call("new message", f"after {n}")
        texts = await _texts(ws, 10)
    assert texts == [f"between {n}" for n in range(5)] + [f"after {n}" for n in range(5, 10)]
    status, body = await p.get()  # the session is the websocket's now
    assert status == 400


async def _texts(ws: ClientConnection, count: int) -> list[str]:
    texts: list[str] = []
    while len(texts) < count:
        frame = await asyncio.wait_for(ws.recv(), 10)
        if isinstance(frame, str) and frame.startswith('42["new message"'):
            texts.append(orjson.loads(frame[2:])[1]["message"])
        elif frame == "2":
            await ws.send("3")
    return texts


async def test_a_malformed_body_is_a_400_and_ends_that_session(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    huge_ack, deep = b"42" + b"9" * 5000 + b'["x"]', b'42["x",' + b"[" * 100_000 + b"]]"
    for body in (b"abc", b"", b"4hi\x1e", b"b!!!", b"4" + b"2not json", huge_ack, deep):
        p = Poller(http, replica[0])
        await p.connect()
        status, _ = await p.post(body)
        assert status == 400, body
        assert (await p.get())[0] == 400


async def test_an_unknown_sid_is_a_400_naming_it(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    p = Poller(http, replica[0])
    p.sid = "no-such-session"
    for status, body in (await p.get(), await p.post(b"40")):
        assert status == 400
        assert orjson.loads(body) == {"code": 1, "message": "Session ID unknown"}


async def test_the_sid_of_a_websocket_session_is_a_400_on_polling(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    ws_url = replica[0].replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with connect(ws_url) as ws:
        opened = orjson.loads((await ws.recv())[1:])
        assert opened["upgrades"] == []
        p = Poller(http, replica[0])
        p.sid = opened["sid"]
        status, body = await p.get()
        assert status == 400
        assert orjson.loads(body) == {"code": 3, "message": "Bad request"}
        await ws.send("40")  # the websocket session itself is unaffected
        assert (await ws.recv()).startswith('40{"sid"')


async def test_a_post_larger_than_max_payload_is_a_400(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    p = Poller(http, replica[0])
    await p.connect()
    status, _ = await p.post(b"4" + b"x" * MAX_PAYLOAD)
    assert status == 400
    assert (await p.get())[0] == 400


async def test_an_upgrade_for_an_unknown_session_is_a_400(
    replica: tuple[str, Path], bystander: Client
) -> None:
    url = replica[0].replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    with pytest.raises(InvalidStatus) as refused:
        await connect(url + "&sid=no-such-session")
    assert refused.value.response.status_code == 400


async def test_a_second_concurrent_get_is_a_400_and_ends_the_session(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    p = Poller(http, replica[0])
    await p.connect()
    first = await p.hold_after(b"40{")
    assert (await p.get())[0] == 400
    assert await asyncio.wait_for(first, 10) == (200, b"1")  # close: the held one ends
    assert (await p.get())[0] == 400


async def test_a_polling_client_that_stops_answering_pings_is_dropped(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    """--ping-interval 2: a session that reads pings but never pongs is gone after the
    next one (the bystander, whose client pongs, stays)."""
    p = Poller(http, replica[0])
    await p.connect()
    status = 200
    async with asyncio.timeout(20):
        while status == 200:
            status, _ = await p.get()
    assert status == 400


async def test_a_polling_client_whose_held_get_is_cut_has_left(tmp_path: Path) -> None:
    """A closed tab: its held GET's connection goes away, and the room hears it left. The
    heartbeat is 300 s here, so only the cut connection can have told the server."""
    with logged_replica(tmp_path, "--ping-interval", "300") as running:
        url = running.url
        watcher = Client()
        await watcher.sio.connect(url, transports=["polling"])
        await watcher.sio.call("add user", "watcher")
        try:
            async with aiohttp.ClientSession() as own:
                p = Poller(own, url)
                await p.connect()
                await p.post(b'421["add user","leaver"]')
                held = await p.hold_after(b"431[")
                assert (await watcher.next("user joined"))["username"] == "leaver"
                held.cancel()  # aiohttp drops the request's connection
            assert (await watcher.next("user left"))["username"] == "leaver"
        finally:
            await watcher.sio.disconnect()


async def _gauge(http: aiohttp.ClientSession, url: str, name: str) -> float:
    async with http.get(url + "/metrics") as r:
        for line in (await r.text()).splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_abandoned_handshakes_stop_counting_after_one_ping_round(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    """500 clients handshake (half of them CONNECT too) and never poll again: none of
    them still counts once pingInterval + pingTimeout (2 s + 2 s here) have passed."""
    abandoned = [Poller(http, replica[0]) for _ in range(500)]
    for n, p in enumerate(abandoned):
        await (p.connect() if n % 2 else p.open())
    sessions = "escala_chat_engine_sessions"
    assert await _gauge(http, replica[0], sessions) >= 500
    async with asyncio.timeout(20):
        while await _gauge(http, replica[0], sessions) > 1:  # the bystander's own
            await asyncio.sleep(0.5)
    assert await _gauge(http, replica[0], "escala_chat_connected_clients") == 1


async def test_a_request_that_never_completes_is_cut_off(tmp_path: Path) -> None:
    """Slowloris: headers that never end, a body that never comes, an idle keep-alive:
    each connection is closed after --request-timeout, so they cannot pile up."""
    with logged_replica(tmp_path, "--request-timeout", "1") as running:
        port = int(running.url.rsplit(":", 1)[1])
        partial = [
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ",
            b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 100\r\n\r\n4",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",  # answered, then idle
        ]
        for start in partial:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(start)
            async with asyncio.timeout(15):
                rest = await reader.read()  # until the server closes
            writer.close()
            assert start.endswith(b"\r\n\r\n") or b"408 Request Timeout" in rest, rest
        assert "Traceback" not in running.log.read_text()
