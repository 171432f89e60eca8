"""The pictures of the docs that need a running chat: the page (desktop and phone) and a
load run's chart. `make docs` runs this; `python docs/pictures.py docs/images`.

A chat replica on a free loopback port, three people in Chromium (Playwright, Debian's
/usr/bin/chromium) and `escala load --report` against the same replica.
"""

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ESCALA = [sys.executable, "-m", "escala"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int, data_dir: str) -> subprocess.Popen[bytes]:
    argv = [*ESCALA, "chat", "serve", "--port", str(port), "--data-dir", data_dir]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the chat did not start on port {port}")


def log_in(browser, url: str, nick: str, viewport: dict[str, int]) -> Page:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=viewport)
    page.goto(url)
    page.fill("#nick", nick)
    page.press("#nick", "Enter")
    page.wait_for_selector("#chat:not([hidden])")
    return page


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_timeout(150)


def chat_pictures(url: str, out: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        ana = log_in(browser, url, "ana", {"width": 1100, "height": 640})
        bo = log_in(browser, url, "bo", {"width": 390, "height": 760})
        carmen = log_in(browser, url, "carmen", {"width": 1100, "height": 640})
        say(bo, "hola! is the new replica up?")
        say(ana, "yes: three masters in three zones, the chat scales on CPU")
        carmen.locator("#rooms button", has_text="#random").click()
        carmen.wait_for_timeout(300)
        say(bo, "great, trying the load test now")
        ana.locator("#text").press_sequentially("on")
        bo.wait_for_timeout(300)
        ana.screenshot(path=str(out / "chat-desktop.png"))
        bo.screenshot(path=str(out / "chat-phone.png"))
        browser.close()


def load_chart(url: str, out: Path) -> None:
    subprocess.run(
        [*ESCALA, "load", "--url", url, "--clients", "50", "--senders", "10", "--rate", "100",
         "--duration", "10s", "--report", str(out / "load-run.png")],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        proc = serve(port, data_dir)
        try:
            url = f"http://127.0.0.1:{port}"
            chat_pictures(url, out)
            load_chart(url, out)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    for name in ("chat-desktop.png", "chat-phone.png", "load-run.png"):
        print(out / name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
