"""Engine.IO v3 / Socket.IO v4 (socket.io-client 2.x) spoken by hand against a real
replica started with --allow-eio3, per https://github.com/socketio/engine.io-protocol/tree/v3
and https://github.com/socketio/socket.io-protocol/tree/v4: the framing, the reversed
heartbeat, the implicit connect, the upgrade, and every refusal as a 400 while a v4
bystander (python-socketio, on long-polling) keeps chatting.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from escala.chat.auth import mint
from tests.chat.servers import logged_replica
from tests.chat.test_eio3_wire import binary_payload, text_payload
from tests.chat.test_server import Client

UNSUPPORTED = {"code": 5, "message": "Unsupported protocol version"}


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    flags = ("--allow-eio3", "--rate", "1000", "--ping-interval", "2")
    with logged_replica(tmp_path, *flags) as running:
        yield running.url, running.log


def split(body: bytes) -> list[str]:
    """A v3 GET response's packets, read as engine.io-parser 2.x's decodePayload does."""
    text, packets = body.decode(), []
    units = text.encode("utf-16-le")
    while units:
        colon = units.index(b":\x00")
        n = int(units[:colon].decode("utf-16-le"))
        packets.append(units[colon + 2 : colon + 2 + 2 * n].decode("utf-16-le"))
        units = units[colon + 2 + 2 * n :]
    return packets


class V3Poller:
    """One Engine.IO v3 session on long-polling, by hand."""

    def __init__(self, http: aiohttp.ClientSession, url: str, query: str = "") -> None:
        self.http = http
        self.base = url + "/socket.io/?EIO=3&transport=polling" + query
        self.sid = ""

    @property
    def url(self) -> str:
        return f"{self.base}&sid={self.sid}"

    async def open(self) -> list[str]:
        """The handshake's packets: `open`, then (maybe in the same response) `40`."""
        async with self.http.get(self.base) as r:
            assert r.status == 200, await r.read()
            packets = split(await r.read())
        self.sid = str(orjson.loads(packets[0][1:])["sid"])
        return packets

    async def get(self) -> tuple[int, bytes]:
        async with self.http.get(self.url) as r:
            return r.status, await r.read()

    async def post(self, body: bytes, binary: bool = False) -> tuple[int, bytes]:
        kind = "application/octet-stream" if binary else "text/plain;charset=UTF-8"
        async with self.http.post(self.url, data=body, headers={"Content-Type": kind}) as r:
            return r.status, await r.read()

    async def packets_until(self, *needles: str) -> list[str]:
        seen: list[str] = []
        while not all(any(needle in p for p in seen) for needle in needles):
            status, body = await asyncio.wait_for(self.get(), 10)
            assert status == 200, body
            seen += split(body)
        return seen


async def test_without_the_flag_eio3_is_refused_on_both_transports(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    with logged_replica(tmp_path) as running:
        async with http.get(running.url + "/socket.io/?EIO=3&transport=polling") as r:
            assert r.status == 400 and orjson.loads(await r.read()) == UNSUPPORTED
        ws = running.url.replace("http://", "ws://") + "/socket.io/?EIO=3&transport=websocket"
        with pytest.raises(InvalidStatus) as refused:
            await connect(ws)
        assert refused.value.response.status_code == 400


async def test_a_v3_session_is_connected_without_asking_and_framed_by_length(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    p = V3Poller(http, replica[0])
    packets = await p.open()
    handshake = orjson.loads(packets[0][1:])
    assert handshake["upgrades"] == ["websocket"] and "maxPayload" not in handshake
    assert handshake["pingInterval"] == 2000
    if len(packets) == 1:
        packets += await p.packets_until("40")
    assert packets[1] == "40"  # Socket.IO v4: connected, no sid payload, nothing asked
    # Lengths in UTF-16 units both ways: the emoji counts 2, as in JavaScript.
    sent = text_payload('421["add user","añ😀"]', '42["new message","hi 😀"]')
    assert await p.post(sent) == (200, b"ok")
    seen = await p.packets_until("431[")
    assert '431[{"numUsers":2,"username":"añ😀"}]' in seen
    assert (await bystander.next("new message"))["message"] == "hi 😀"
    await bystander.sio.emit("new message", "from v4")
    seen = await p.packets_until("from v4")
    assert '42["new message",{"username":"bystander","message":"from v4"' in seen[-1]


async def test_the_client_pings_and_silence_ends_the_session(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    """--ping-interval 2: the server never pings a v3 client; it answers its pings, and
    drops it once it was silent for pingInterval + pingTimeout (4 s)."""
    p = V3Poller(http, replica[0])
    await p.open()
    seen: list[str] = []
    for _ in range(6):  # 6 s of pings, each answered
        assert await p.post(b"1:2") == (200, b"ok")
        seen += await p.packets_until("3")
        await asyncio.sleep(1)
    assert "2" not in seen
    status = 200
    async with asyncio.timeout(20):
        while status == 200:
            status, _ = await p.get()
    assert status == 400


async def test_binary_events_arrive_in_both_payload_encodings(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    """A binary event as the 2.x client sends it: `b4` + base64 in a text payload, or an
    octet-stream payload; the chat refuses binary text in the ack, the session stays."""
    p = V3Poller(http, replica[0])
    await p.open()
    await p.post(text_payload('420["add user","binary"]'))
    event = '451-1["new message",{"_placeholder":true,"num":0}]'
    await p.post(text_payload(event, "b4AQID"))
    await p.post(binary_payload(event.replace("-1", "-2"), b"\x04\x01\x02\x03"), binary=True)
    seen = await p.packets_until("431[", "432[")
    assert any(s.startswith('431[{"error":"message: must be') for s in seen)
    assert any(s.startswith('432[{"error":"message: must be') for s in seen)


MALFORMED = [
    (b"abc", False),
    (b"2:4", False),
    (b"9:42[]", False),
    ("2:4😀".encode(), False),  # the length splits the emoji's surrogate pair
    (b"5:b4!!!", False),
    ("²:2".encode(), False),  # a digit to str.isdigit, not to int()
    (b"\x00\x09\xff2", True),  # shorter than it says
    (b"\x01\x01\xff\x06", True),  # binary, but not a message
]


async def test_a_malformed_v3_body_is_a_400_and_ends_that_session(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    for body, binary in MALFORMED:
        p = V3Poller(http, replica[0])
        await p.open()
        assert (await p.post(body, binary))[0] == 400, body
        assert (await p.get())[0] == 400, body
    assert "Traceback" not in replica[1].read_text()


async def test_jsonp_polling_is_a_400_saying_what_to_use(
    replica: tuple[str, Path], http: aiohttp.ClientSession
) -> None:
    async with http.get(replica[0] + "/socket.io/?EIO=3&transport=polling&j=0") as r:
        assert r.status == 400
        assert "use XHR polling or websocket" in orjson.loads(await r.read())["message"]


async def test_the_upgrade_moves_a_v3_session_to_websocket_losing_nothing(
    replica: tuple[str, Path], http: aiohttp.ClientSession, bystander: Client
) -> None:
    p = V3Poller(http, replica[0])
    await p.open()
    await p.post(text_payload('421["add user","upgrader"]'))
    await p.packets_until("431[")
    held = asyncio.create_task(p.get())
    await asyncio.sleep(0.2)
    ws_url = p.url.replace("http://", "ws://").replace("polling", "websocket")
    async with connect(ws_url) as ws:
        await ws.send("2probe")
        assert await ws.recv() == "3probe"
        assert await asyncio.wait_for(held, 10) == (200, b"1:6")  # noop: polling paused
        await bystander.sio.call("new message", "between")
        await ws.send("5")
        await bystander.sio.call("new message", "after")
        await ws.send("2")
        frames = [await asyncio.wait_for(ws.recv(), 10) for _ in range(3)]
    texts = [orjson.loads(f[2:])[1]["message"] for f in frames if f.startswith("42")]
    assert texts == ["between", "after"] and "3" in frames


async def test_a_v3_client_on_websocket_only(replica: tuple[str, Path], bystander: Client) -> None:
    """Its binary frames start with the packet type (4); one that does not is a
    protocol error (close 1002) for that connection alone."""
    ws_url = replica[0].replace("http://", "ws://") + "/socket.io/?EIO=3&transport=websocket"
    async with connect(ws_url) as ws:
        handshake = orjson.loads((await ws.recv())[1:])
        assert handshake["upgrades"] == [] and "maxPayload" not in handshake
        assert await ws.recv() == "40"
        await ws.send('420["add user","ws"]')
        while not (await ws.recv()).startswith("430["):
            pass
        await ws.send('451-1["new message",{"_placeholder":true,"num":0}]')
        await ws.send(b"\x04\x01\x02")
        assert (await ws.recv()).startswith('42["chat error",{"error":"message: must be')
        assert (await ws.recv()).startswith('431[{"error":"message: must be')
        await ws.send("2")
        assert await ws.recv() == "3"
        await ws.send('451-2["new message",{"_placeholder":true,"num":0}]')
        await ws.send(b"\x01\x02")
        with pytest.raises(ConnectionClosedError) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1002


@pytest.fixture
def secured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    key = "k" * 40
    monkeypatch.setenv("ESCALA_CHAT_AUTH_SECRET", key)
    with logged_replica(tmp_path, "--allow-eio3") as running:
        yield running.url, key


async def test_a_token_rides_in_the_query_and_refusals_are_v4_error_packets(
    secured: tuple[str, str], http: aiohttp.ClientSession
) -> None:
    url, key = secured
    refused = V3Poller(http, url)
    packets = await refused.open()
    packets += [] if len(packets) > 1 else await refused.packets_until("44")
    assert packets[1] == "44\"authentication required: connect with auth: {token: '<a JWT>'}\""
    token = mint(key.encode(), "u-7", "ana", 60)
    accepted = V3Poller(http, url, query=f"&token={token}")
    packets = await accepted.open()
    packets += [] if len(packets) > 1 else await accepted.packets_until("40")
    assert packets[1] == "40"
    await accepted.post(text_payload('421["add user","ignored"]'))
    assert '431[{"numUsers":1,"username":"ana"}]' in await accepted.packets_until("431[")
