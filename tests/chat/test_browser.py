"""escala's own page in real headless Chromium: two pages chat with each other."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

pytestmark = pytest.mark.browser

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
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            yield b
        finally:
            b.close()


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
    expect(bo.locator("#messages .message")).to_have_text(["ana: <img src=x onerror=alert(1)>hola"])
    assert bo.locator("#messages img").count() == 0
