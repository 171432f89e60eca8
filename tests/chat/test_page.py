"""escala's chat page as a newcomer meets it, in real headless Chromium.

The login screen and its errors, two people chatting, a room switch, and the layout at a
desktop and a phone width (screenshots kept under the test's tmp_path).
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.chat.servers import serve_argv
from tests.servers import free_port, start, stop

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CLOCK = re.compile(r"^\d{1,2}:\d{2}")


@pytest.fixture
def page_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start(serve_argv(port, tmp_path), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def log_in(browser: Browser, url: str, nick: str, viewport: dict[str, int] = DESKTOP) -> Page:
    page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    page.goto(url)
    page.fill("#nick", nick)
    page.press("#nick", "Enter")
    expect(page.locator("#chat")).to_be_visible()
    return page


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def test_the_login_screen_says_what_this_is_and_refuses_an_empty_nickname(
    page_url: str, browser: Browser
) -> None:
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
    page.goto(page_url)
    expect(page.locator("#login h1")).to_have_text("escala chat")
    expect(page.locator("#login .lead")).to_contain_text("real-time chat")
    for typed in ("", "   "):
        page.fill("#nick", typed)
        page.click("#enter")
        expect(page.locator("#login-error")).to_be_visible()
        expect(page.locator("#login-error")).to_contain_text("cannot be empty")
        expect(page.locator("#nick")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#chat")).to_be_hidden()
    page.fill("#nick", "ana")
    page.press("#nick", "Enter")
    expect(page.locator("#chat")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()
    expect(page.locator("#me")).to_have_text("signed in as ana")


def test_two_people_chat_with_timestamps_own_messages_apart_and_typing_shown(
    page_url: str, browser: Browser
) -> None:
    ana = log_in(browser, page_url, "ana")
    bo = log_in(browser, page_url, "bo")
    expect(ana.locator("#messages .system.joined")).to_have_text([re.compile("^bo joined")])
    expect(ana.locator("#online li")).to_have_text(["ana", "bo"])
    expect(ana.locator("#count")).to_have_text("2 people here")

    bo.locator("#text").press_sequentially("hol")
    expect(ana.locator("#typing")).to_have_text("bo is typing…")
    bo.fill("#text", "hola ana")
    bo.press("#text", "Enter")
    expect(ana.locator("#typing")).to_have_text("")
    say(ana, "hi bo")

    for page in (ana, bo):
        messages = page.locator("#messages .message")
        expect(messages.locator(".who")).to_have_text(["bo", "ana"])
        expect(messages.locator(".text")).to_have_text(["hola ana", "hi bo"])
        for stamp in messages.locator("time").all_inner_texts():
            assert CLOCK.match(stamp), stamp
    expect(ana.locator("#messages .message.mine .text")).to_have_text(["hi bo"])
    expect(bo.locator("#messages .message.mine .text")).to_have_text(["hola ana"])
    # A message is styled apart from a system line: different background and alignment.
    system = ana.locator("#messages .system").first.evaluate("e => getComputedStyle(e).fontStyle")
    message = ana.locator("#messages .message").first.evaluate("e => getComputedStyle(e).fontStyle")
    assert (system, message) == ("italic", "normal")


def test_a_room_switch_shows_as_a_move_with_room_counts(page_url: str, browser: Browser) -> None:
    ana = log_in(browser, page_url, "ana")
    bo = log_in(browser, page_url, "bo")
    expect(ana.locator("#rooms button")).to_have_text(["#lobby2", "#random0"])

    bo.locator("#rooms button", has_text="#random").click()
    expect(bo.locator("#room-title")).to_have_text("#random")
    expect(bo.locator("#messages .system.moved .text")).to_have_text(["You moved to #random."])
    expect(bo.locator('#rooms button[aria-current="true"]')).to_have_text("#random1")
    expect(ana.locator("#messages .system.moved")).to_have_text(
        [re.compile("^bo moved to #random")]
    )
    expect(ana.locator("#messages .system.left")).to_have_count(0)
    expect(ana.locator("#rooms button")).to_have_text(["#lobby1", "#random1"])
    expect(ana.locator("#online li")).to_have_text(["ana"])

    say(ana, "only the lobby hears this")
    say(bo, "/join kitchen")  # the keyboard way: a command in the message box
    expect(bo.locator("#room-title")).to_have_text("#kitchen")
    expect(bo.locator("#messages .message")).to_have_count(0)
    bo.keyboard.press("Alt+ArrowUp")  # back up the room list, to random
    expect(bo.locator("#room-title")).to_have_text("#random")
    bo.keyboard.press("Alt+ArrowUp")
    expect(bo.locator("#room-title")).to_have_text("#lobby")
    expect(bo.locator("#messages .message .text")).to_have_text(["only the lobby hears this"])
    expect(ana.locator("#messages .system.moved").last).to_have_text(
        re.compile("^bo moved here from #random")
    )


LAYOUT = """() => {
  const width = (sel) => document.querySelector(sel).getBoundingClientRect().width;
  const visible = [...document.querySelectorAll('#chat *')].filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  });
  return {
    viewport: innerWidth,
    pageWidth: document.documentElement.scrollWidth,
    messages: width('#messages'),
    side: document.querySelector('#side').getBoundingClientRect().width,
    overflowing: visible.filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5
      || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'hidden'
      && e.tagName !== 'INPUT').map((e) => e.id || e.className || e.tagName),
    widest: Math.max(...[...document.querySelectorAll(
      '#side, #side *, #messages li, #typing, #error')]
      .map((e) => e.getBoundingClientRect().width)),
  };
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_conversation_is_the_main_area_and_nothing_overflows(
    page_url: str, browser: Browser, tmp_path: Path, viewport: dict[str, int]
) -> None:
    ana = log_in(browser, page_url, "ana", viewport)
    bo = log_in(browser, page_url, "bo", viewport)
    say(bo, "a word too long for a phone: " + "x" * 120)
    say(ana, "and a short answer")
    expect(ana.locator("#messages .message")).to_have_count(2)
    ana.screenshot(path=str(tmp_path / "chat.png"))

    layout = ana.evaluate(LAYOUT)
    assert layout["pageWidth"] <= layout["viewport"], layout
    assert layout["overflowing"] == [], layout
    assert layout["messages"] >= layout["widest"], layout
    if viewport is PHONE:
        assert layout["messages"] >= 0.9 * layout["viewport"], layout
        expect(ana.locator("#side")).to_be_hidden()
        ana.click("#side-toggle")  # the rooms and people, one tap away
        expect(ana.locator("#side")).to_be_visible()
        expect(ana.locator("#online li")).to_have_text(["ana", "bo"])
        ana.keyboard.press("Escape")
        expect(ana.locator("#side")).to_be_hidden()
    else:
        assert layout["messages"] >= 3 * layout["side"], layout
        expect(ana.locator("#side")).to_be_visible()


def test_the_page_loads_nothing_from_elsewhere_and_has_no_inline_code(
    page_url: str, browser: Browser
) -> None:
    """CSP-friendly: every request goes to the chat's own origin; no inline script or
    style attribute a strict Content-Security-Policy would block."""
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(page_url)
    expect(page.locator("#login")).to_be_visible()
    assert requested and all(u.startswith(page_url) for u in requested), requested
    inline = page.evaluate(
        "() => [...document.querySelectorAll('script:not([src]), style, [style]')].length"
    )
    assert inline == 0
