"""Fixtures shared by the chat tests: real PostgreSQL and Redis, a chat replica, and
headless Chromium."""

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.chat.servers import create_database, postgres_server, redis_server
from tests.chat.test_server import Client, chat_url, transports  # noqa: F401  (fixtures, shared)

_names = itertools.count()

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Real headless Chromium (Debian's), driven by Playwright."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """One PostgreSQL server for the session; tests get their own database from it."""
    with postgres_server() as server:
        yield server.url


@pytest.fixture
def postgres_url(postgres: str) -> str:
    """A fresh, empty database, so tests never see each other's history."""
    return create_database(postgres, f"chat_{next(_names)}")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def bystander(replica: tuple[str, Path]) -> AsyncIterator[Client]:
    """A python-socketio client on long-polling, logged in to the module's `replica`
    (url, log): still chatting, never disconnected, no traceback in the log after."""
    c = Client()
    await c.sio.connect(replica[0], transports=["polling"])
    await c.sio.call("add user", "bystander")
    yield c
    assert "id" in await c.sio.call("new message", "still chatting")
    assert c.queue("disconnect").empty()
    await c.sio.disconnect()
    assert "Traceback" not in replica[1].read_text()
