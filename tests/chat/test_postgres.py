"""Two `escala chat serve` replicas sharing one history through a real PostgreSQL.

No Redis here: what B knows of A's messages can only come from the shared database.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chat.test_server import Client, serve_argv
from tests.servers import free_port, start, stop


@pytest.fixture
def replicas(tmp_path: Path, postgres_url: str) -> Iterator[list[str]]:
    urls, procs = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            argv = serve_argv(port, tmp_path / name, "--database", postgres_url)
            procs.append(start(argv, port))
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for proc in procs:
            stop(proc)


async def test_history_written_on_a_is_replayed_on_b(replicas: list[str]) -> None:
    on_a = Client()
    await on_a.sio.connect(replicas[0], transports=["websocket"])
    try:
        await on_a.sio.call("add user", "ana")
        sent = await on_a.sio.call("new message", "kept in postgres")
        await on_a.sio.call("chat message", ("tutorial", "client-a-1"))
        await on_a.sio.call("chat message", ("tutorial", "client-a-1"))  # a retry
    finally:
        await on_a.sio.disconnect()
    on_b = Client()
    await on_b.sio.connect(replicas[1], transports=["websocket"], auth={"serverOffset": 0})
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
