"""Socket.IO's own two pages, unmodified, in headless Chromium against the default server:
the chat demo of the socket.io repository (`examples/chat/public`) and the
getting-started tutorial's final page. Each is served with `--static` and uses the
client's default transports (long-polling, then the upgrade to websocket).

Their files are not in this repository: tests/chat/official/README.md says why, where
each comes from and where to put it; a test whose page is absent is skipped, naming the
missing file.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect

from tests.chat.servers import replicas
from tests.chat.test_browser import say  # the tutorial's page has the same #input

pytestmark = pytest.mark.browser

OFFICIAL = Path(__file__).parent / "official"
# The demo loads jQuery from this CDN; this machine reaches no CDN, so the test answers the
# URL with Debian's libjs-jquery (3.6: the demo uses nothing jQuery 3 removed).
DEMO_JQUERY = "https://code.jquery.com/jquery-1.10.2.min.js"
DEBIAN_JQUERY = Path("/usr/share/javascript/jquery/jquery.min.js")


def official_page(name: str, *files: str) -> Path:
    folder = OFFICIAL / name
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        pytest.skip(
            f"{name}: {', '.join(missing)} not in {folder}; "
            f"{OFFICIAL / 'README.md'} says where each file comes from"
        )
    return folder


def open_page(browser: Browser, url: str, upgrades: list[WebSocket]) -> Page:
    """A page whose websockets are recorded, with the demo's jQuery served from Debian's."""
    assert DEBIAN_JQUERY.is_file(), "Debian's libjs-jquery is missing: `make system-packages`"
    page = browser.new_page()
    page.on("websocket", lambda ws: upgrades.append(ws))
    page.route(DEMO_JQUERY, lambda route: route.fulfill(path=DEBIAN_JQUERY))
    page.goto(url)
    return page


def assert_upgraded_from_polling(upgrades: list[WebSocket], pages: int) -> None:
    """Each page's client started on long-polling (its session id is in the websocket's
    URL) and then upgraded, as the official client does by default."""
    assert len(upgrades) >= pages
    assert all("transport=websocket" in ws.url and "&sid=" in ws.url for ws in upgrades)


def test_the_socket_io_chat_demo_works_unmodified(tmp_path: Path, browser: Browser) -> None:
    """Log in, see who joins and how many are here, see the other typing, chat, see
    them leave: everything the demo shows, from escala's server."""
    folder = official_page("chat-demo", "index.html", "main.js", "style.css")
    upgrades: list[WebSocket] = []
    with replicas(tmp_path, "--static", str(folder), count=1) as (replica,):
        ana, bo = (open_page(browser, replica.url, upgrades) for _ in range(2))
        for page, nick in ((ana, "ana"), (bo, "bo")):
            page.fill(".usernameInput", nick)
            page.press(".usernameInput", "Enter")
            expect(page.locator(".chat.page")).to_be_visible()
        welcome = "Welcome to Socket.IO Chat \N{EN DASH}"  # the demo's own text
        expect(ana.locator(".log")).to_have_text(
            [welcome, "there's 1 participant", "bo joined", "there are 2 participants"]
        )
        ana.locator(".inputMessage").press_sequentially("hola", delay=100)
        bo.locator(".message.typing", has_text="ana").wait_for()
        ana.press(".inputMessage", "Enter")
        expect(bo.locator(".message .messageBody")).to_have_text(["hola"])
        expect(bo.locator(".message .username")).to_have_text(["ana"])
        expect(bo.locator(".message.typing")).to_have_count(0)
        ana.close()
        expect(bo.locator(".log").nth(-2)).to_have_text("ana left")
        expect(bo.locator(".log").last).to_have_text("there's 1 participant")
    assert_upgraded_from_polling(upgrades, pages=2)


def test_the_tutorial_s_final_page_works_unmodified_with_allow_anonymous(
    tmp_path: Path, browser: Browser
) -> None:
    """The tutorial's page never logs in, so it needs `--allow-anonymous`. Then: messages
    reach every page once, in order (its `retries` queue included); a page that
    disconnects gets what it missed on reconnect (`auth.serverOffset`); a new page gets
    the history."""
    folder = official_page("tutorial", "index.html")
    upgrades: list[WebSocket] = []
    flags = ("--static", str(folder), "--allow-anonymous")
    with replicas(tmp_path, *flags, count=1) as (replica,):
        a, b = (open_page(browser, replica.url, upgrades) for _ in range(2))
        for page in (a, b):
            # as a person waits for the page: its clientOffset is `${socket.id}-n`, which
            # before the connection is "undefined-n" on every page, so the server (the
            # tutorial's own too) would take one page's message for a retry of another's
            page.wait_for_function("socket.connected")
        for text in ("one", "two", "three"):
            say(a, text)
        expect(b.locator("#messages li")).to_have_text(["one", "two", "three"])
        say(b, "four")
        for page in (a, b):
            expect(page.locator("#messages li")).to_have_text(["one", "two", "three", "four"])
        b.click("#toggle-btn")
        expect(b.locator("#toggle-btn")).to_have_text("Connect")
        say(a, "while b was away")
        expect(a.locator("#messages li").last).to_have_text("while b was away")
        b.click("#toggle-btn")
        everything = ["one", "two", "three", "four", "while b was away"]
        expect(b.locator("#messages li")).to_have_text(everything)
        newcomer = open_page(browser, replica.url, upgrades)
        expect(newcomer.locator("#messages li")).to_have_text(everything)
    assert_upgraded_from_polling(upgrades, pages=3)
