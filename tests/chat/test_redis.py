"""Two `escala chat serve` replicas sharing broadcasts through one real Redis (both servers)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chat.test_server import Client, serve_argv
from tests.servers import free_port, start, stop


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        port,
    )
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture
def replicas(tmp_path: Path, redis_url: str, server_kind: str) -> Iterator[list[str]]:
    urls, procs = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            procs.append(
                start(
                    serve_argv(
                        port,
                        tmp_path / name,
                        "--redis",
                        redis_url,
                        "--server",
                        server_kind,
                    ),
                    port,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for proc in procs:
            stop(proc)


async def test_a_message_sent_on_a_reaches_b(replicas: list[str]) -> None:
    on_a, on_b = Client(), Client()
    await on_a.sio.connect(replicas[0], transports=["websocket"])
    await on_b.sio.connect(replicas[1], transports=["websocket"])
    try:
        await on_b.sio.call("add user", "bo")
        await on_a.sio.call("add user", "ana")
        assert (await on_b.next("user joined"))["username"] == "ana"
        await on_a.sio.call("new message", "across replicas")
        msg = await on_b.next("new message")
        assert (msg["username"], msg["message"]) == ("ana", "across replicas")
    finally:
        await on_a.sio.disconnect()
        await on_b.sio.disconnect()
