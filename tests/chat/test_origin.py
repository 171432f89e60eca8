"""The Origin check: a page of another origin cannot talk to the chat unless listed.

Raw HTTP shows each handshake path (polling GET, POST, the CORS preflight, the websocket
upgrade) refusing a foreign Origin with 403 and Engine.IO's FORBIDDEN body, and CORS
headers only for origins allowed; headless Chromium shows a real foreign page, with the
official client, refused on every transport, and a listed one chatting.
"""

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import orjson
import pytest
from playwright.sync_api import Browser, expect
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.chat.servers import LoggedReplica, logged_replica
from tests.servers import free_port

FRIEND = "http://friend.example:8080"
EVIL = "http://evil.example"


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[LoggedReplica]:
    origins = f"{FRIEND}, https://other.example"
    with logged_replica(tmp_path, "--allow-origin", origins, "--ping-interval", "1") as r:
        yield r


async def test_a_foreign_origin_is_refused_on_every_handshake_path(
    replica: LoggedReplica,
) -> None:
    base = replica.url + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        async with http.get(base, headers={"Origin": EVIL}) as r:
            assert r.status == 403
            assert "Access-Control-Allow-Origin" not in r.headers
            body = orjson.loads(await r.read())
        assert body["code"] == 4
        assert EVIL in body["message"] and "--allow-origin" in body["message"]

        async with http.options(base, headers={"Origin": EVIL}) as r:
            assert r.status == 403  # the CORS preflight
            assert "Access-Control-Allow-Origin" not in r.headers

        async with http.get(base) as r:  # no Origin: not a browser page; a session
            assert r.status == 200
            assert "Access-Control-Allow-Origin" not in r.headers
            sid = orjson.loads((await r.read())[1:])["sid"]
        async with http.post(f"{base}&sid={sid}", data=b"40", headers={"Origin": EVIL}) as r:
            assert r.status == 403  # a foreign page cannot post into someone's session
        async with http.get(f"{base}&sid={sid}") as r:  # answered by the next ping
            assert b"40{" not in await r.read()  # the CONNECT never reached the chat

        ws = replica.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        with pytest.raises(InvalidStatus) as refused:
            await connect(ws, origin=EVIL)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        async with connect(ws, origin=FRIEND) as ok:  # type: ignore[arg-type]
            assert (await ok.recv()).startswith("0{")
    assert "Traceback" not in replica.log.read_text()


async def test_cors_headers_name_only_an_allowed_origin_never_star(
    replica: LoggedReplica,
) -> None:
    base = replica.url + "/socket.io/?EIO=4&transport=polling"
    same = replica.url  # the server's own origin: Host is 127.0.0.1:<port>
    async with aiohttp.ClientSession() as http:
        for origin in (FRIEND, "https://other.example", same):
            async with http.get(base, headers={"Origin": origin}) as r:
                assert r.status == 200, origin
                assert r.headers["Access-Control-Allow-Origin"] == origin
                assert r.headers["Access-Control-Allow-Credentials"] == "true"
        async with http.options(base, headers={"Origin": FRIEND}) as r:
            assert r.status == 204
            assert r.headers["Access-Control-Allow-Origin"] == FRIEND
        # the same host on another port, or a listed host on another scheme, is foreign
        for origin in ("http://127.0.0.1:1", "https://friend.example:8080", "null"):
            async with http.get(base, headers={"Origin": origin}) as r:
                assert r.status == 403, origin


PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<ul id="messages"></ul>
<script src="{chat}/socket.io/socket.io.js"></script>
<script>
  const nick = location.search.slice(1) || "someone";
  const socket = io("{chat}", {{ transports: {transports}, reconnection: false }});
  socket.on("connect", () => {{
    document.body.dataset.state = "connected";
    socket.emit("add user", nick, () => socket.emit("new message", "hi from " + nick));
  }});
  socket.on("connect_error", () => {{ document.body.dataset.state = "refused"; }});
  socket.on("new message", (m) => {{
    const li = document.createElement("li");
    li.textContent = m.message;
    document.getElementById("messages").appendChild(li);
  }});
</script></body></html>"""


@contextmanager
def page_server(chat: str, transports: str, port: int | None = None) -> Iterator[str]:
    """A page served from its own origin (another port) that connects to `chat`."""
    html = PAGE.format(chat=chat, transports=transports).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_a_foreign_page_in_chromium_is_refused_and_a_listed_one_chats(
    tmp_path: Path, browser: Browser
) -> None:
    """The official client on a page of another origin, on each transport setting: its
    connect fails. The same page from the origin given to --allow-origin chats."""
    friend_port = free_port()
    with logged_replica(tmp_path, "--allow-origin", f"http://127.0.0.1:{friend_port}") as chat:
        for transports in ('["polling"]', '["websocket"]', '["polling", "websocket"]'):
            with page_server(chat.url, transports) as evil:
                page = browser.new_page()
                page.goto(evil)
                expect(page.locator("body")).to_have_attribute("data-state", "refused")
                page.close()
        with page_server(chat.url, '["polling", "websocket"]', friend_port) as friend:
            ana, bo = browser.new_page(), browser.new_page()
            ana.goto(friend + "/?ana")
            expect(ana.locator("body")).to_have_attribute("data-state", "connected")
            bo.goto(friend + "/?bo")
            expect(bo.locator("body")).to_have_attribute("data-state", "connected")
            expect(ana.locator("#messages li")).to_have_text(["hi from bo"])
    assert "Traceback" not in chat.log.read_text()
