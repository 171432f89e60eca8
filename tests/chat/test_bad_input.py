"""Every kind of bad input from the issue, against a real replica whose log is read.

Each case must get a clear error (a `chat error` event and an `{error}` ack) for the
sender alone, never a crash (no traceback in the server's log), and must not touch
other users: bystanders still chat afterwards and saw none of it.
"""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chat.servers import logged_replica
from tests.chat.test_server import Client


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A replica with small limits; yields its URL and the file its log goes to."""
    with logged_replica(tmp_path, "--rate", "20", "--max-message", "100") as running:
        yield running.url, running.log


@pytest.fixture
async def users(
    replica: tuple[str, Path], transports: list[str]
) -> AsyncIterator[tuple[Client, Client, Client]]:
    """The sender of bad input and two bystanders, all logged in to the lobby."""
    made = []
    for name in ("mal", "bo", "cy"):
        c = Client()
        await c.sio.connect(replica[0], transports=transports)
        await c.sio.call("add user", name)
        made.append(c)
    yield made[0], made[1], made[2]
    for c in made:
        await c.sio.disconnect()


async def rejected(c: Client, event: str, *args: Any, needle: str) -> None:
    """The call is acked with {error} naming `needle`, and the same error is emitted."""
    ack = await c.sio.call(event, args[0] if len(args) == 1 else (args or None))
    assert needle in ack["error"], ack
    assert (await c.next("chat error")) == ack


async def test_nicknames_empty_blank_too_long_or_not_text(
    replica: tuple[str, Path], transports: list[str]
) -> None:
    c = Client()
    await c.sio.connect(replica[0], transports=transports)
    try:
        for bad in ("", "   ", "x" * 33, 42, {"name": "ana"}, ["ana"], "a\x00b", "\ud800"):
            await rejected(c, "add user", bad, needle="username:")
        await rejected(c, "add user", needle="username:")  # no argument at all
        assert (await c.sio.call("add user", "ana"))["numUsers"] == 1
    finally:
        await c.sio.disconnect()


async def test_bad_messages_flooding_and_html_leave_bystanders_chatting(
    replica: tuple[str, Path], users: tuple[Client, Client, Client]
) -> None:
    mal, bo, cy = users
    # HTML is text like any other: delivered as sent, for pages to render inert.
    html = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert "id" in await mal.sio.call("new message", html)
    assert (await bo.next("new message"))["message"] == html
    assert (await cy.next("new message"))["message"] == html

    # Each is refused for what it is (--rate 20 allows a burst of 40: no rate limit yet).
    await rejected(mal, "new message", "x" * 101, needle="at most 100")
    for bad in ("", 7, 3.5, True, {"text": "hi"}, [1, 2], "nul\x00", "\udfff"):
        await rejected(mal, "new message", bad, needle="message:")
    await rejected(mal, "new message", needle="message:")  # missing argument
    await rejected(mal, "chat message", {"not": "text"}, "offset", needle="message:")
    await rejected(mal, "join", 12, needle="room:")
    await rejected(mal, "join", "r" * 65, needle="room:")
    for event, data in [("typing", {"x": 1}), ("no such event", 1), ("users", [None])]:
        await mal.sio.emit(event, data)

    replies = [await mal.sio.call("new message", f"flood {i}") for i in range(60)]
    assert any("rate limit" in r.get("error", "") for r in replies)

    # Bystanders can still chat, and saw exactly the accepted messages (a connection
    # delivers in order, so what came before their own chat arrived first).
    accepted = [r["id"] for r in replies if "id" in r]
    await bo.sio.call("new message", "still here")
    await cy.sio.call("new message", "me too")
    assert await ids_until(cy, "still here") == accepted
    assert await ids_until(bo, "me too") == accepted
    assert bo.queue("chat error").empty() and cy.queue("chat error").empty()
    assert "Traceback" not in replica[1].read_text()


async def ids_until(c: Client, text: str) -> list[int]:
    """Ids of the `new message`s `c` received before the one saying `text`."""
    ids = []
    while (msg := await c.next("new message"))["message"] != text:
        ids.append(msg["id"])
    return ids
