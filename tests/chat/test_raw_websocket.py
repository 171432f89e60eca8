"""The server against a raw websocket client: what no Socket.IO library would send.

python-socketio and the JS client only send well-formed packets; these check what the
server's own codec does with the rest, through a plain websocket (the `websockets` library).
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.chat.servers import logged_replica, replicas
from tests.chat.test_server import Client


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    with replicas(tmp_path, count=1) as (one,):
        yield one.url


async def _opened(url: str) -> ClientConnection:
    ws = await connect(url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket")
    assert (await ws.recv()).startswith("0{")
    return ws


async def test_unknown_namespace_gets_connect_error(server_url: str) -> None:
    ws = await _opened(server_url)
    try:
        await ws.send("40/admin,")
        assert await ws.recv() == '44/admin,{"message":"Invalid namespace"}'
        await ws.send("40")  # the default namespace still works on the same connection
        assert (await ws.recv()).startswith('40{"sid":')
    finally:
        await ws.close()


@pytest.mark.parametrize("bad", ["42not json", '42{"not":"an array"}', b"\x00binary"])
async def test_malformed_packet_closes_only_its_sender(server_url: str, bad: str | bytes) -> None:
    bystander = Client()
    await bystander.sio.connect(server_url, transports=["websocket"])
    ws = await _opened(server_url)
    try:
        await ws.send("40")
        assert (await ws.recv()).startswith("40")
        await ws.send(bad)
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert (await bystander.sio.call("add user", "bo"))["numUsers"] == 1
        assert bystander.queue("disconnect").empty()
    finally:
        await ws.close()
        await bystander.sio.disconnect()


async def test_a_client_that_stops_reading_is_dropped_not_buffered_forever(
    tmp_path: Path,
) -> None:
    # A long heartbeat, so that a missed pong cannot be what closes the silent client.
    flags = ("--max-message", "100000", "--rate", "1000")
    flags += ("--ping-interval", "300")
    with replicas(tmp_path, *flags, count=1) as (one,):
        talker = Client()
        await talker.sio.connect(one.url, transports=["websocket"])
        await talker.sio.call("add user", "talker")
        ws = await _opened(one.url)
        try:
            await ws.send("40")
            assert (await ws.recv()).startswith("40")
            # ~30 MB for a client that reads nothing: beyond the kernel's socket buffers
            # and the server's 8 MiB backlog cap.
            for _ in range(300):
                await talker.sio.emit("new message", "x" * 100_000)
            assert "id" in await talker.sio.call("new message", "still here")
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 20)
            assert talker.queue("disconnect").empty()
        finally:
            await ws.close()
            await talker.sio.disconnect()


async def test_an_absurd_ack_id_or_nesting_is_a_clean_close_logged_in_few_lines(
    tmp_path: Path,
) -> None:
    """A 5000-digit ack id or 100k-deep arrays broke the parser (a traceback, close 1011):
    now a protocol error like any malformed packet, and a flood of them from many
    connections logs a few lines, not one (or a traceback) each."""
    frames = ["42" + "9" * 5000 + '["x"]', '42["x",' + "[" * 100_000 + "]]", "42" + "[" * 5000]
    with logged_replica(tmp_path) as replica:
        for n in range(60):
            ws = await _opened(replica.url)
            await ws.send("40")
            assert (await ws.recv()).startswith("40")
            await ws.send(frames[n % len(frames)])
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is None or closed.value.rcvd.code != 1011
        log = replica.log.read_text()
    assert "Traceback" not in log
    assert len([line for line in log.splitlines() if "malformed" in line]) <= 12
