"""The page's security headers, the tutorial's `chat message` behind a login, and the page
under its Content-Security-Policy (and with a token) in real headless Chromium."""

import secrets
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from escala.chat.auth import mint
from tests.chat.servers import LoggedReplica, logged_replica
from tests.chat.test_browser import OFFSETS_PAGE
from tests.chat.test_server import Client

PAGE_FILES = ("/", "/app.js", "/style.css", "/socket.io/socket.io.js")


def headers(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url) as r:
        return {k.lower(): v for k, v in r.headers.items()}


def test_the_page_and_its_files_carry_the_security_headers(chat_url: str) -> None:
    for path in PAGE_FILES:
        got = headers(chat_url + path)
        csp = got["content-security-policy"]
        for rule in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
            assert rule in csp, (path, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert got["x-content-type-options"] == "nosniff", path
        assert got["x-frame-options"] == "DENY", path
        assert got["referrer-policy"] == "no-referrer", path


def test_a_static_front_end_keeps_its_own_scripts_but_cannot_be_framed(tmp_path: Path) -> None:
    """`--static` is the operator's page (the offsets page has an inline script): it gets
    no script policy, only what cannot break it."""
    with logged_replica(tmp_path, "--static", str(OFFSETS_PAGE)) as chat:
        got = headers(chat.url + "/")
    assert got["content-security-policy"] == "frame-ancestors 'none'"
    assert got["x-content-type-options"] == "nosniff"
    assert got["x-frame-options"] == "DENY"


async def test_chat_message_needs_a_login_first(chat_url: str) -> None:
    """The tutorial's event posted into the lobby's history with no name at all."""
    anon, reader = Client(), Client()
    for c in (anon, reader):
        await c.sio.connect(chat_url, transports=["websocket"])
    refused = await anon.sio.call("chat message", ("anonymous post", "a-1"))
    assert refused["error"].startswith("message: send `add user` first")
    assert "--allow-anonymous" in refused["error"]
    await reader.sio.call("add user", "reader")
    await anon.sio.call("add user", "anon")
    assert await anon.sio.call("chat message", ("signed post", "a-2")) is None
    assert (await reader.next("chat message"))[0] == "signed post"
    assert reader.queue("chat message").empty()  # the first one never went out
    for c in (anon, reader):
        await c.sio.disconnect()


@pytest.fixture
def authed(tmp_path: Path) -> Iterator[tuple[LoggedReplica, str]]:
    secret = secrets.token_urlsafe(32)
    (tmp_path / "secret").write_text(secret)
    with logged_replica(tmp_path, "--auth-secret-file", str(tmp_path / "secret")) as chat:
        yield chat, secret


async def test_an_authenticated_client_may_use_chat_message_without_add_user(
    authed: tuple[LoggedReplica, str],
) -> None:
    chat, secret = authed
    c = Client()
    await c.sio.connect(chat.url, auth={"token": mint(secret.encode(), "u", "una", 60)})
    assert await c.sio.call("chat message", ("from a token", "u-1")) is None
    assert (await c.next("chat message"))[0] == "from a token"
    await c.sio.disconnect()


def csp_reports(page: object) -> list[str]:
    """Every Content-Security-Policy complaint Chromium prints for `page`."""
    said: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            said.append(message.text)

    page.on("console", listen)  # type: ignore[attr-defined]
    return said


@pytest.mark.browser
def test_the_page_works_under_its_policy_and_takes_its_name_from_a_token(
    authed: tuple[LoggedReplica, str], browser: Browser
) -> None:
    """Under the policy the page logs in over websocket, chats and shows who is typing, with
    no CSP complaint; opened with #token= it chats as the token's name, and without one the
    login screen says why it was refused."""
    chat, secret = authed
    pages, complaints = [], []
    for user, typed in (("u1", "ana"), ("u2", "mallory")):
        page = browser.new_page()
        complaints.append(csp_reports(page))
        page.goto(f"{chat.url}/#token={mint(secret.encode(), user, user.upper(), 60)}")
        page.fill("#nick", typed)
        page.press("#nick", "Enter")
        expect(page.locator("#chat")).to_be_visible()
        expect(page.locator("#me")).to_have_text(f"signed in as {user.upper()}")
        pages.append(page)
    one, two = pages
    two.fill("#text", "hola")
    two.press("#text", "Enter")
    expect(one.locator("#messages .message .who")).to_have_text(["U2"])
    expect(one.locator("#online li")).to_have_text(["U1", "U2"])
    assert complaints == [[], []], complaints

    stranger = browser.new_page()
    stranger.goto(chat.url)
    stranger.fill("#nick", "eve")
    stranger.press("#nick", "Enter")
    expect(stranger.locator("#login-error")).to_contain_text("authentication required")
    expect(stranger.locator("#chat")).to_be_hidden()


async def test_allow_anonymous_takes_the_tutorial_s_chat_message(tmp_path: Path) -> None:
    """The getting-started tutorial's page never logs in: on a server started with
    --allow-anonymous its `chat message` reaches everyone; the demo's events still need
    a name."""
    with logged_replica(tmp_path, "--allow-anonymous") as chat:
        anon, reader = Client(), Client()
        for c in (anon, reader):
            await c.sio.connect(chat.url, transports=["websocket"])
        assert await anon.sio.call("chat message", ("hello from the tutorial", "t-1")) is None
        text, offset = await reader.next("chat message")
        assert text == "hello from the tutorial" and isinstance(offset, int)
        refused = await anon.sio.call("new message", "the demo's event still needs a name")
        assert refused == {"error": "message: send `add user` first"}
        for c in (anon, reader):
            await c.sio.disconnect()


def test_head_answers_get_s_headers_and_no_body(chat_url: str) -> None:
    """A HEAD's body would be read as the start of the next answer on the connection."""
    port = int(chat_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while answer.count(b"HTTP/1.1 ") < 2 or not answer.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: 0" not in head
    assert rest.startswith(b"HTTP/1.1 200"), rest[:80]
