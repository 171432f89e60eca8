"""socket.io-client 2.5.0 (Engine.IO v3, the seed's era) in real headless Chromium,
against `chat serve --allow-eio3`; and a 2.x page with a 4.x page in one room.

The page (fixtures/legacy, served with --static) runs the official 2.5.0 client,
vendored beside it, or with ?client=4 the 4.x client the server serves.
"""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.chat.servers import replicas
from tests.chat.test_browser import chat_both_ways, say

pytestmark = pytest.mark.browser

LEGACY_PAGE = Path(__file__).parent / "fixtures" / "legacy"
SERVE = ("--allow-eio3", "--static", str(LEGACY_PAGE), "--rate", "100")


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_page()
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-connected", "yes")
    return page


@pytest.mark.parametrize(
    "only, ends_on",
    [(None, "websocket"), ("polling", "polling"), ("websocket", "websocket")],
    ids=["default-polling-then-upgrade", "polling-only", "websocket-only"],
)
def test_socket_io_2_client_chats_on_each_transport_setting(
    tmp_path: Path, browser: Browser, only: str | None, ends_on: str
) -> None:
    """The 2.x client connects with no CONNECT of its own, ends on the expected
    transport, two pages see each other's messages once each, in order, and a binary
    event (XHR2 binary payload on polling, a type-prefixed frame on websocket) reaches
    the chat, which refuses it as text, in an ack, keeping the connection."""
    with replicas(tmp_path, *SERVE, count=1) as (replica,):
        url = replica.url + (f"/?transports={only}" if only else "/")
        a, b = _open(browser, url), _open(browser, url)
        for page in (a, b):
            expect(page.locator("body")).to_have_attribute("data-transport", ends_on)
        chat_both_ways(a, b)
        a.click("#binary")
        expect(a.locator("body")).to_have_attribute("data-binary-reply", re.compile("^{"))
        reply = json.loads(a.locator("body").get_attribute("data-binary-reply") or "")
        assert "must be a non-empty string" in reply["error"]
        say(a, "still here")
        expect(b.locator("#messages li")).to_have_count(7)


def test_a_2x_page_and_a_4x_page_share_a_room(tmp_path: Path, browser: Browser) -> None:
    """Both protocol versions on one server: each page sees the other's messages, in
    the order sent."""
    with replicas(tmp_path, *SERVE, count=1) as (replica,):
        old = _open(browser, replica.url + "/?client=2")
        new = _open(browser, replica.url + "/?client=4")
        expect(old.locator("body")).to_have_attribute("data-eio", "3")
        expect(new.locator("body")).to_have_attribute("data-eio", "4")
        chat_both_ways(old, new)


def test_without_the_flag_a_2x_client_never_connects(tmp_path: Path, browser: Browser) -> None:
    """Off by default: the 2.x client's handshake is refused (400, unsupported
    protocol version) and its page never connects."""
    flags = ("--static", str(LEGACY_PAGE))
    with replicas(tmp_path, *flags, count=1) as (replica,):
        page = browser.new_page()
        with page.expect_response(lambda r: "EIO=3" in r.url) as refused:
            page.goto(replica.url + "/?transports=polling")
        assert refused.value.status == 400
        assert refused.value.json() == {"code": 5, "message": "Unsupported protocol version"}
        page.wait_for_timeout(1000)
        assert page.locator("body").get_attribute("data-connected") is None
