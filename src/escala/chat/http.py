"""The server's HTTP/1.1 side: every connection starts here, on one port.

Long-polling needs what picows's websocket router cannot give: request bodies (POST),
keep-alive, and a GET answered later (when the server has something to send). So each
connection is parsed with httptools (llhttp, the parser of Node and uvicorn); a websocket
upgrade request is handed, with the bytes that came after it, to a picows protocol on the
same socket, so websocket traffic runs in picows's C parser as before, and plain requests
(polling, /healthz, static files) are answered here.

A connection answers its requests one at a time, in order (HTTP/1.1 pipelining): a held
long-polling GET keeps the ones behind it waiting, as HTTP requires.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import httptools
from picows import WSAutoPingStrategy, WSListener
from picows.picows import WSProtocol

from escala.chat.logs import MALFORMED

# Not a `logging.Logger`, so picows does not make a child logger for every connection
# (about 1 KiB each; docs/performance.md, idle memory).
PICOWS_LOG = logging.LoggerAdapter(logging.getLogger("picows.server"))
# picows allocates 16 KiB per connection by default; chat packets are small and the
# buffer grows when one is not.
WS_READ_BUFFER_BYTES = 2048
WS_HANDSHAKE_TIMEOUT_S = 10.0
# What picows's handshake reads of the upgrade request (it keeps what it is given, as a
# CIMultiDict, for the connection's life): the other headers are not passed on.
WS_HANDSHAKE_HEADERS = frozenset(
    (b"upgrade", b"connection", b"sec-websocket-key", b"sec-websocket-version")
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[bytes, bytes]
    body: bytes = b""
    keep_alive: bool = True
    upgrade: bool = False
    too_large: bool = False
    raw_url: bytes = b""
    cors_origin: str | None = None  # an allowed Origin, normalized: CORS headers name it
    header_lines: list[tuple[bytes, bytes]] = field(default_factory=list)


class Handler(Protocol):
    """What the server answers: plain requests, and websocket upgrades."""

    max_body: int
    request_timeout: float  # seconds a connection may take to send a whole request

    def handle(self, conn: "HttpConnection", request: Request) -> None:
        """Answer `request` with `conn.respond`, now or later."""
        ...

    def upgrade(self, conn: "HttpConnection", request: Request) -> WSListener | None:
        """The websocket listener for an upgrade, or None after answering it with an error."""
        ...


class HttpConnection(asyncio.Protocol):
    """One TCP connection while it speaks HTTP (until a websocket upgrade, if any).

    After an upgrade uvloop keeps this protocol's bound `data_received` for the life of
    the socket, so the upgrade drops every piece of HTTP state (`_release`) and the
    object is slotted: idle websockets are most of a replica's memory.
    """

    __slots__ = (
        "_after_upgrade",
        "_body",
        "_body_size",
        "_deadline",
        "_parsing",
        "busy",
        "closed",
        "current",
        "handler",
        "max_frame",
        "on_close",
        "parser",
        "requests",
        "transport",
    )

    def __init__(self, handler: Handler, max_frame: int) -> None:
        self.handler = handler
        self.max_frame = max_frame
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)
        self.requests: deque[Request] = deque()
        self.current: Request | None = None
        self.busy = False  # a request is being answered (e.g. a held GET)
        self.closed = False
        self.on_close: Callable[[], None] | None = None  # a held GET's owner wants to know
        self._parsing: Request | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self._after_upgrade = b""
        self._deadline: asyncio.TimerHandle | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._disarm()
        if self.on_close is not None:
            on_close, self.on_close = self.on_close, None
            on_close()

    def data_received(self, data: bytes) -> None:
        if self._after_upgrade or (self.requests and self.requests[-1].upgrade):
            self._after_upgrade += data  # bytes for the websocket, once it is handed over
            return
        if self.parser is None:
            return  # handed over to picows
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as up:
            self._after_upgrade = data[up.args[0] :]
        except httptools.HttpParserError as e:
            MALFORMED.info("malformed input from %s: bad HTTP request (%s)", self.peer, e)
            self._fail(HTTPStatus.BAD_REQUEST, b"bad HTTP request\n")
            return
        self._next()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._parsing = Request("", "", {}, {})
        self._body, self._body_size = [], 0

    def on_url(self, url: bytes) -> None:
        assert self._parsing is not None
        self._parsing.raw_url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self._parsing is not None
        self._parsing.headers[name.lower()] = value
        self._parsing.header_lines.append((name, value))

    def on_headers_complete(self) -> None:
        request = self._parsing
        assert request is not None
        parser = self.parser
        assert parser is not None
        request.method = parser.get_method().decode("latin-1")
        url = urlsplit(request.raw_url.decode("latin-1"))
        request.path = url.path
        request.query = {k: v[0] for k, v in parse_qs(url.query).items()}
        request.keep_alive = parser.should_keep_alive()
        request.upgrade = parser.should_upgrade()
        length = request.headers.get(b"content-length", b"0")
        request.too_large = not length.isdigit() or int(length) > self.handler.max_body

    def on_body(self, body: bytes) -> None:
        assert self._parsing is not None
        self._body_size += len(body)
        if self._body_size > self.handler.max_body:
            self._parsing.too_large = True
        elif not self._parsing.too_large:
            self._body.append(body)

    def on_message_complete(self) -> None:
        request = self._parsing
        assert request is not None
        request.body = b"".join(self._body)
        self._parsing, self._body = None, []
        self.requests.append(request)

    # answering

    def _next(self) -> None:
        """Answer the next request unless one is being answered already."""
        while not self.busy and self.requests and not self.closed:
            request = self.requests.popleft()
            self.busy, self.current = True, request
            self._disarm()
            if request.upgrade:
                self._upgrade(request)
                return
            self.handler.handle(self, request)
        if not self.busy and not self.closed:
            self._arm()

    # the slowloris bound: a whole request within `request_timeout` of the last answer

    def _arm(self) -> None:
        """Start the clock, unless it runs already: the next request must be complete
        (headers and body) within the timeout, and an idle keep-alive ends then too."""
        if self._deadline is None:
            loop = asyncio.get_running_loop()
            self._deadline = loop.call_later(self.handler.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.busy or self.closed or self.transport is None:
            return
        if self._parsing is not None:  # begun, never finished: a slowloris
            MALFORMED.info("malformed input from %s: request not complete in time", self.peer)
            self._fail(HTTPStatus.REQUEST_TIMEOUT, b"request not complete in time\n")
        else:  # an idle keep-alive connection
            self.closed = True
            self.transport.close()

    def respond(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=UTF-8",
        headers: tuple[tuple[str, str], ...] = (),
        close: bool = False,
    ) -> None:
        """Answer the current request; then the next one on this connection goes."""
        if self.closed or self.transport is None:
            return
        request = self.current
        keep = request is not None and request.keep_alive and not close
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
            "Connection: keep-alive" if keep else "Connection: close",
            "X-Content-Type-Options: nosniff",  # every answer is what its type says
        ]
        lines += [f"{name}: {value}" for name, value in headers]
        if request is not None and request.cors_origin is not None:
            lines += _cors(request.cors_origin)
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # HEAD: GET's headers, Content-Length included, and no body (RFC 9110 9.3.2); a
        # body would be read as the start of the next answer on a keep-alive connection
        headless = request is not None and request.method == "HEAD"
        self.transport.write(head if headless else head + body)
        self.busy, self.current, self.on_close = False, None, None
        if not keep:
            self.closed = True
            self.transport.close()
            return
        self._next()

    @property
    def peer(self) -> str:
        """The client's IP address ("" once the socket is gone)."""
        return peer_ip(self.transport) if self.transport is not None else ""

    def abort(self) -> None:
        """Cut the connection without an answer (a drained or dropped polling client)."""
        self.on_close = None
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, status: HTTPStatus, body: bytes) -> None:
        self.busy, self.current = True, None
        self.respond(status, body, close=True)

    def _upgrade(self, request: Request) -> None:
        """Hand the socket to picows with the upgrade request, rebuilt, in front of
        whatever came after it (the first websocket frames may already be here)."""
        listener = self.handler.upgrade(self, request)
        if listener is None:
            # Refused (answered already): the parser stopped at the upgrade, so nothing
            # more can be read on this connection.
            if self.transport is not None:
                self.closed = True
                self.transport.close()
            return
        if self.transport is None:
            return
        protocol = WSProtocol(
            None,
            None,
            False,  # server side
            lambda _request: listener,
            PICOWS_LOG,
            True,  # disconnect on an exception in a callback
            WS_HANDSHAKE_TIMEOUT_S,
            False,  # no picows pings: Engine.IO has its own heartbeat
            20,
            20,
            WSAutoPingStrategy.PING_WHEN_IDLE,
            True,  # answer websocket PING frames
            self.max_frame,
            None,
            WS_READ_BUFFER_BYTES,
        )
        head = request.method.encode() + b" " + request.raw_url + b" HTTP/1.1\r\n"
        head += b"".join(
            name + b": " + value + b"\r\n"
            for name, value in request.header_lines
            if name.lower() in WS_HANDSHAKE_HEADERS
        )
        data = head + b"\r\n" + self._after_upgrade
        transport = self.transport
        self._release()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        while data:
            buffer = protocol.get_buffer(len(data))
            n = min(len(buffer), len(data))
            buffer[:n] = data[:n]
            protocol.buffer_updated(n)
            data = data[n:]

    def _release(self) -> None:
        """The socket is picows's now: keep nothing of HTTP (see the class docstring)."""
        self.transport, self.parser, self.current, self._parsing = None, None, None, None
        self.requests.clear()
        self._body.clear()
        self._after_upgrade = b""
        self.closed = True


def peer_ip(transport: asyncio.BaseTransport) -> str:
    """The remote IP of a socket."""
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


def client_ip(conn: "HttpConnection", request: Request, proxy_hops: int) -> str:
    """The client's address, the per-IP flood limit's key: the TCP peer, or behind
    `proxy_hops` trusted proxies (an ALB is one) the address the outermost of them saw,
    which each proxy appends to X-Forwarded-For. Entries further left are the client's
    own say, so never trusted; with fewer entries than hops, the leftmost is used."""
    if proxy_hops > 0:
        forwarded = request.headers.get(b"x-forwarded-for", b"").decode("latin-1")
        hops = [a.strip() for a in forwarded.split(",") if a.strip()]
        if hops:
            return hops[-min(proxy_hops, len(hops))]
    return conn.peer


def _cors(origin: str) -> list[str]:
    """Let a page from an allowed origin (a front-end served elsewhere) poll: that origin
    by name, never `*`, since the browser sends the page's cookies along."""
    return [
        f"Access-Control-Allow-Origin: {origin}",
        "Vary: Origin",
        "Access-Control-Allow-Credentials: true",
        "Access-Control-Allow-Methods: GET, POST, OPTIONS",
        "Access-Control-Allow-Headers: Content-Type",
    ]
