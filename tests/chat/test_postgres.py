"""Two `escala chat serve` replicas sharing one history through a real PostgreSQL.

No Redis here: what B knows of A's messages can only come from the shared database.
"""

import asyncio
from pathlib import Path

from tests.chat.servers import create_database, postgres_server, readyz, replicas
from tests.chat.test_server import Client


async def test_history_written_on_a_is_replayed_on_b(tmp_path: Path, postgres_url: str) -> None:
    with replicas(tmp_path, "--database", postgres_url) as (a, b):
        on_a = Client()
        await on_a.sio.connect(a.url, transports=["websocket"])
        try:
            await on_a.sio.call("add user", "ana")
            sent = await on_a.sio.call("new message", "kept in postgres")
            await on_a.sio.call("chat message", ("tutorial", "client-a-1"))
            await on_a.sio.call("chat message", ("tutorial", "client-a-1"))  # a retry
        finally:
            await on_a.sio.disconnect()
        on_b = Client()
        await on_b.sio.connect(b.url, transports=["websocket"], auth={"serverOffset": 0})
        try:
            assert (await on_b.next("chat message"))[0] == "kept in postgres"
            assert (await on_b.next("chat message"))[0] == "tutorial"
            await on_b.sio.call("add user", "bo")
            history = await on_b.next("history")
            assert [(m["username"], m["message"], m["id"]) for m in history] == [
                ("ana", "kept in postgres", sent["id"]),
                ("ana", "tutorial", sent["id"] + 1),
            ]
        finally:
            await on_b.sio.disconnect()


async def test_a_database_outage_is_an_error_for_the_sender_not_a_crash(tmp_path: Path) -> None:
    with postgres_server() as pg:
        url = create_database(pg.url, "outage")
        with replicas(tmp_path, "--database", url, count=1) as (replica,):
            c = Client()
            await c.sio.connect(replica.url, transports=["websocket"])
            try:
                await c.sio.call("add user", "ana")
                assert "id" in await c.sio.call("new message", "stored")
                pg.stop()
                ack = await c.sio.call("new message", "lost")
                assert ack == {"error": "server: new message failed; try again"}
                assert await c.next("chat error") == ack
                assert await asyncio.to_thread(readyz, replica.url) == 503
                assert (await c.sio.call("users"))["users"] == ["ana"]  # still serving
            finally:
                await c.sio.disconnect()
