"""The Engine.IO heartbeat: a client that answers pings stays connected,
one that stops answering is dropped (so a vanished client does not stay counted forever)."""

import asyncio
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.chat.servers import replicas
from tests.chat.test_server import Client


async def test_a_client_that_stops_answering_pings_is_dropped(
    tmp_path: Path, transports: list[str]
) -> None:
    with replicas(tmp_path, "--ping-interval", "2", count=1) as (one,):
        live = Client()
        await live.sio.connect(one.url, transports=transports)
        url = one.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        async with connect(url) as silent:
            assert (await silent.recv()).startswith("0{")
            await silent.send("40")
            assert (await silent.recv()).startswith("40")
            # Reads pings ("2") but never answers them: the server must close on it.
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(silent.recv(), 30)
        # The python-socketio client answered every ping meanwhile and never lost its link.
        assert (await live.sio.call("add user", "ana"))["numUsers"] == 1
        assert live.queue("disconnect").empty()
        await live.sio.disconnect()
