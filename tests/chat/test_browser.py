"""Pages in real headless Chromium: escala's own, and a `--static` front-end.

Both use the official socket.io-client (4.8.4, vendored in escala/chat/static/vendor and
served at /socket.io/socket.io.js), so these are the official client against the server.
"""

import signal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.chat.servers import replicas, serve_argv
from tests.servers import free_port, start, stop

pytestmark = pytest.mark.browser


def test_two_pages_chat_and_html_stays_inert(chat_url: str, browser: Browser) -> None:
    pages = []
    for nick in ("ana", "bo"):
        page = browser.new_page()
        page.goto(chat_url)
        page.fill("#nick", nick)
        page.click("#login button")
        expect(page.locator("#chat")).to_be_visible()
        pages.append(page)
    ana, bo = pages
    expect(ana.locator("#online")).to_contain_text("bo")
    ana.fill("#text", "<img src=x onerror=alert(1)>hola")
    ana.press("#text", "Enter")
    expect(bo.locator("#messages .message .text")).to_have_text(
        ["<img src=x onerror=alert(1)>hola"]
    )
    assert bo.locator("#messages img").count() == 0


OFFSETS_PAGE = Path(__file__).parent / "fixtures" / "offsets"


def test_static_page_gets_missed_messages_once_after_a_reconnect(
    tmp_path: Path, browser: Browser
) -> None:
    """The tutorial's delivery rules in a browser: while B is away, A's messages are
    stored; B's reconnect sends auth.serverOffset and gets exactly what it missed."""
    with replicas(tmp_path, "--static", str(OFFSETS_PAGE), count=1) as (replica,):
        a, b = browser.new_page(), browser.new_page()
        for page in (a, b):
            page.goto(replica.url)
            expect(page.locator("body")).to_have_attribute("data-connected", "yes")
        say(a, "before")
        expect(b.locator("#messages li")).to_have_text(["before"])
        b.click("#toggle")
        expect(b.locator("body")).to_have_attribute("data-connected", "no")
        say(a, "missed 1")
        say(a, "missed 2")
        expect(a.locator("#messages li")).to_have_text(["before", "missed 1", "missed 2"])
        b.click("#toggle")
        expect(b.locator("#messages li")).to_have_text(["before", "missed 1", "missed 2"])
        say(b, "back")
        expect(a.locator("#messages li")).to_have_text(["before", "missed 1", "missed 2", "back"])


@pytest.mark.parametrize(
    "only, ends_on",
    [(None, "websocket"), ("polling", "polling"), ("websocket", "websocket")],
    ids=["default-polling-then-upgrade", "polling-only", "websocket-only"],
)
def test_official_client_chats_on_each_transport_setting(
    tmp_path: Path, browser: Browser, only: str | None, ends_on: str
) -> None:
    """The official client with its default transports (long-polling, then the upgrade),
    with `transports: ['polling']` and with `['websocket']`: it connects, ends on the
    expected transport, and two pages see each other's messages, each once, in order."""
    with replicas(tmp_path, "--static", str(OFFSETS_PAGE), count=1) as (replica,):
        url = replica.url + (f"/?transports={only}" if only else "/")
        a, b = browser.new_page(), browser.new_page()
        for page in (a, b):
            page.goto(url)
            expect(page.locator("body")).to_have_attribute("data-connected", "yes")
            expect(page.locator("body")).to_have_attribute("data-transport", ends_on)
        chat_both_ways(a, b)


def say(page: Page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def chat_both_ways(a: Page, b: Page) -> None:
    """Three messages from each page, interleaved: both pages show all six, in one
    order, and each sender's in the order sent."""
    for n in range(3):
        say(a, f"a{n}")
        say(b, f"b{n}")
    for page in (a, b):
        expect(page.locator("#messages li")).to_have_count(6)
    texts = a.locator("#messages li").all_inner_texts()
    assert texts == b.locator("#messages li").all_inner_texts()
    assert [t for t in texts if t.startswith("a")] == ["a0", "a1", "a2"]
    assert [t for t in texts if t.startswith("b")] == ["b0", "b1", "b2"]


def test_a_drained_page_reconnects_by_itself_to_the_next_replica(
    tmp_path: Path, browser: Browser
) -> None:
    """SIGTERM drops the page's transport; the Socket.IO client reconnects on its own to
    whatever answers at that address next (here a new replica on the same port, as
    behind a balancer) and carries on where it was."""
    port = free_port()
    argv = serve_argv(port, tmp_path, "--static", str(OFFSETS_PAGE), "--drain-timeout", "2")
    first = start(argv, port)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}")
        expect(page.locator("body")).to_have_attribute("data-connected", "yes")
        say(page, "on the first replica")
        expect(page.locator("#messages li")).to_have_text(["on the first replica"])
        first.send_signal(signal.SIGTERM)
        expect(page.locator("body")).to_have_attribute("data-connected", "no")
        assert first.wait(timeout=15) == 0
    finally:
        stop(first)
    second = start(argv, port)
    try:
        expect(page.locator("body")).to_have_attribute("data-connected", "yes", timeout=20_000)
        say(page, "on the second")
        expect(page.locator("#messages li")).to_have_text(["on the first replica", "on the second"])
    finally:
        stop(second)


def _log_in(browser: Browser, url: str, nick: str) -> Page:
    page = browser.new_page()
    page.goto(url)
    page.fill("#nick", nick)
    page.click("#login button")
    expect(page.locator("#chat")).to_be_visible()
    return page


def test_escala_page_logs_back_in_after_a_drain_without_duplicates(
    tmp_path: Path, browser: Browser
) -> None:
    """The page re-sends `add user` when its client reconnects and asks only for what
    came after the last message it showed, so the chat carries on with nothing twice."""
    port = free_port()
    argv = serve_argv(port, tmp_path, "--drain-timeout", "2")
    url = f"http://127.0.0.1:{port}"
    first = start(argv, port)
    try:
        ana, bo = _log_in(browser, url, "ana"), _log_in(browser, url, "bo")
        bo.fill("#text", "before")
        bo.press("#text", "Enter")
        expect(ana.locator("#messages .message .text")).to_have_text(["before"])
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=15) == 0
        for page in (ana, bo):
            expect(page.locator("#status")).to_have_text("reconnecting…")
    finally:
        stop(first)
    second = start(argv, port)
    try:
        for page in (ana, bo):
            expect(page.locator("#status")).to_have_text("", timeout=20_000)
        bo.fill("#text", "after")
        bo.press("#text", "Enter")
        expect(ana.locator("#messages .message .text")).to_have_text(["before", "after"])
        ana.fill("#text", "back")
        ana.press("#text", "Enter")
        expect(bo.locator("#messages .message .text")).to_have_text(["before", "after", "back"])
    finally:
        stop(second)
