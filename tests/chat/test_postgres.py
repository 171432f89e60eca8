"""Two `escala chat serve` replicas sharing one history through a real PostgreSQL.

No Redis here: what B knows of A's messages can only come from the shared database.
"""

from pathlib import Path

from tests.chat.servers import replicas
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
