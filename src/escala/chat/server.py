"""`escala chat serve`: one replica of the chat, on uvloop, Socket.IO spoken directly.

python-socketio spends most of a broadcast's time on per-recipient work (a queue, a task
and a packet object per client); this server drives `ChatService` through `Rooms`, which
writes one pre-encoded frame to every websocket member of a room from picows's
synchronous callbacks, and queues the packet for every long-polling one.

On its one port: Socket.IO (Engine.IO v4 long-polling and websocket, the upgrade between
them, Socket.IO v5 on the default namespace, binary events and acks; with --allow-eio3
also Engine.IO v3 / Socket.IO v4, socket.io-client 2.x's, in `eio3`), /healthz, /readyz,
/metrics, /socket.io/socket.io.js and the page (escala's, or `--static DIR`). With
`--redis`, broadcasts reach every replica through `relay` and presence is cluster-wide.
SIGTERM drains: /readyz 503, no new sessions, every connection dropped like a broken
transport over half the budget (clients reconnect elsewhere, not all at once), history
flushed, exit 0.
"""

import asyncio
import logging
import mimetypes
import signal
from pathlib import Path
from typing import Any

import uvloop

from escala.chat import eio3
from escala.chat.auth import Verifier
from escala.chat.engine import Engine
from escala.chat.http import HttpConnection, Request, client_ip
from escala.chat.metrics import Metrics
from escala.chat.options import ServeOptions
from escala.chat.origins import OriginPolicy, normalize, refusal
from escala.chat.polling import (
    BAD_HANDSHAKE_METHOD,
    BAD_REQUEST,
    FORBIDDEN,
    JSONP_REFUSED,
    UNKNOWN_SID,
    UNKNOWN_TRANSPORT,
    UNSUPPORTED_VERSION,
    Polling,
    refuse,
)
from escala.chat.presence import LocalPresence, Presence, RedisPresence
from escala.chat.relay import RedisRelay
from escala.chat.rooms import Rooms
from escala.chat.service import ChatService
from escala.chat.store import Store, keep_pruning
from escala.chat.websocket import WebSocketListener

log = logging.getLogger("escala.chat.server")

STATIC = Path(__file__).parent / "static"
# Of --drain-timeout, what the drain may use; the rest is for closing the stores.
DRAIN_SHARE = 0.8
LISTEN_BACKLOG = 2048
ENGINE_PATHS = ("/socket.io/", "/socket.io")
# escala's own page and its files: nothing inline, nothing from elsewhere (its tests
# check), so the strictest policy fits. connect-src 'self' covers ws:// to the same host.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# A `--static` front-end is the operator's: its scripts are its business; framing is not.
STATIC_POLICY = "frame-ancestors 'none'"


class ChatServer:
    """The listening socket, the sessions, the heartbeat, readiness, drain and routes."""

    def __init__(self, store: Store, options: ServeOptions) -> None:
        self.store = store
        self.options = options
        self.metrics = Metrics()
        self.relay = RedisRelay(options.redis) if options.redis else None
        self.presence: Presence = (
            RedisPresence(options.redis, options.presence_ttl) if options.redis else LocalPresence()
        )
        self.rooms = Rooms(self.metrics, self.relay)
        self.service = ChatService(self.rooms, store, self.presence, options.limits(), self.metrics)
        keys = options.auth_keys()
        verifier = Verifier(keys) if keys is not None else None
        self.engine = Engine(self.service, self.rooms, options.engine_limits(), verifier)
        self.polling = Polling(self.engine)
        self.origins = OriginPolicy.listing(options.allow_origin)
        self.versions = ("4", eio3.PROTOCOL) if options.allow_eio3 else ("4",)
        self.metrics.sessions.set_function(lambda: len(self.engine.sessions))
        self.max_body = self.engine.limits.max_payload
        self.request_timeout = options.request_timeout
        self.draining = False
        self.stopping = False
        self._static = (options.static or STATIC).resolve()
        self._page_headers = _page_headers(STATIC_POLICY if options.static else PAGE_POLICY)
        self._client_js = (STATIC / "vendor" / "socket.io.min.js").read_bytes()

    # HTTP routes (the `http.Handler` protocol)

    def handle(self, conn: HttpConnection, request: Request) -> None:
        path = request.path
        if path in ENGINE_PATHS:
            self._engine_request(conn, request)
        elif path == "/healthz":
            conn.respond(200, b"ok\n")
        elif path == "/readyz":
            self.engine.spawn(self._readyz(conn))
        elif path == "/metrics":
            conn.respond(200, self.metrics.render(), "text/plain; version=0.0.4")
        elif path == "/socket.io/socket.io.js":
            conn.respond(200, self._client_js, "application/javascript", self._page_headers)
        else:
            self._static_file(conn, path)

    def _engine_request(self, conn: HttpConnection, request: Request) -> None:
        """A long-polling request: the checks of engine.io's `verify`, in its order."""
        query = request.query
        if not self._origin_allowed(conn, request):
            return
        if request.method == "OPTIONS":  # a CORS preflight for a cross-origin page
            conn.respond(204, b"")
            return
        if query.get("transport") not in ("polling", "websocket"):
            refuse(conn, UNKNOWN_TRANSPORT)
            return
        if query.get("EIO") not in self.versions:
            refuse(conn, UNSUPPORTED_VERSION)
            return
        if "j" in query:
            refuse(conn, JSONP_REFUSED)
            return
        sid = query.get("sid")
        if sid is None:
            if self.draining:
                conn.respond(503, b"draining\n")
            elif query["transport"] != "polling" or request.method != "GET":
                refuse(conn, BAD_HANDSHAKE_METHOD)
            else:
                ip = client_ip(conn, request, self.options.proxy_hops)
                self.polling.handshake(conn, request, ip, v3=query["EIO"] == eio3.PROTOCOL)
            return
        session = self.engine.sessions.get(sid)
        if session is None:
            refuse(conn, UNKNOWN_SID)
        elif query["transport"] != "polling":
            refuse(conn, BAD_REQUEST)  # a websocket without the upgrade headers
        else:
            self.polling.request(conn, request, session)

    def upgrade(self, conn: HttpConnection, request: Request) -> WebSocketListener | None:
        """A websocket: a new session, or the upgrade of a long-polling one."""
        query = request.query
        if request.path not in ENGINE_PATHS:
            conn.respond(404, b"not found\n", close=True)
            return None
        if not self._origin_allowed(conn, request):
            return None
        if query.get("transport") != "websocket":
            refuse(conn, UNKNOWN_TRANSPORT)
            return None
        if query.get("EIO") not in self.versions:
            refuse(conn, UNSUPPORTED_VERSION)
            return None
        sid = query.get("sid")
        if sid is None:
            if self.draining:
                conn.respond(503, b"draining\n", close=True)
                return None
            ip = client_ip(conn, request, self.options.proxy_hops)
            v3_query = query if query["EIO"] == eio3.PROTOCOL else None
            return WebSocketListener(self.engine, ip, v3_query=v3_query)
        session = self.engine.sessions.get(sid)
        if session is None:
            refuse(conn, UNKNOWN_SID)
            return None
        if session.poll is None or session.upgrading:
            refuse(conn, BAD_REQUEST)  # already on websocket, or being upgraded
            return None
        return WebSocketListener(self.engine, session.ip, upgrading=session)

    def _origin_allowed(self, conn: HttpConnection, request: Request) -> bool:
        """Refuse (403, Engine.IO's FORBIDDEN) a page of a foreign origin before anything
        else; an allowed cross-origin page gets CORS headers naming its origin."""
        origin = request.headers.get(b"origin")
        if not self.origins.allows(origin, request.headers.get(b"host")):
            assert origin is not None
            log.debug("refused a request from origin %r", origin[:200])
            refuse(conn, (FORBIDDEN[0], refusal(origin)), status=403)
            return False
        if origin is not None:
            request.cors_origin = normalize(origin.decode("latin-1"))
        return True

    def _static_file(self, conn: HttpConnection, path: str) -> None:
        target = (self._static / (path.lstrip("/") or "index.html")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self._static) or not target.is_file():
            conn.respond(404, b"not found\n")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        conn.respond(200, target.read_bytes(), kind, self._page_headers)

    # the replica's life

    async def _readyz(self, conn: HttpConnection) -> None:
        """Ready means: not draining, and the history and presence stores answer now."""
        if self.draining:
            why = "draining"
        elif not await self.store.ping():
            why = "history store not reachable"
        elif not await self.presence.ping():
            why = "presence store (redis) not reachable"
        else:
            conn.respond(200, b"ok\n")
            return
        conn.respond(503, why.encode() + b"\n")

    def _sigterm(self, main: "asyncio.Task[Any]") -> None:
        """The first SIGTERM drains, then stops; a second one stops at once."""
        if self.draining:
            self._stop(main)
            return
        self.draining = True
        self.engine.spawn(self._drain_then_stop(main))

    def _stop(self, main: "asyncio.Task[Any]") -> None:
        """Stop serving, once: a later cancel would cut the stores' closing short."""
        if not self.stopping:
            self.stopping = True
            main.cancel()

    async def _drain_then_stop(self, main: "asyncio.Task[Any]") -> None:
        """/readyz 503 and no new sessions (above), then every connection dropped like a
        broken transport, spread over half the budget, so Socket.IO clients reconnect to
        another replica and not all at once. History is flushed when the stores close."""
        budget = self.options.drain_timeout * DRAIN_SHARE
        sids = list(self.service.sessions)
        log.info("SIGTERM: draining %d connections over %.1fs", len(sids), budget / 2)
        step = budget / 2 / max(1, len(sids))
        try:
            async with asyncio.timeout(budget):
                for sid in sids:
                    await asyncio.sleep(step)
                    await self.rooms.disconnect(sid)
                for session in list(self.engine.sessions.values()):
                    session.drop()  # handshaken, never connected to the chat
        except TimeoutError:
            log.warning("drain deadline passed; closing what is left")
        self._stop(main)

    async def serve(self) -> None:
        """Listen until Ctrl-C, or SIGTERM and a drain; then close the listener and stores."""
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        assert main is not None
        loop.add_signal_handler(signal.SIGINT, self._stop, main)
        loop.add_signal_handler(signal.SIGTERM, self._sigterm, main)
        # Redis first: an unreachable one stops startup before a history file is created.
        await self.presence.start()
        if self.relay is not None:
            await self.relay.start()
        await self.store.open()
        background = [
            asyncio.create_task(self.engine.heartbeat()),
            asyncio.create_task(keep_pruning(self.store, self.options.retention())),
        ]
        if self.relay is not None:
            background.append(asyncio.create_task(self.relay.run(self.rooms.deliver_run)))
        max_frame = self.max_body
        try:
            server = await loop.create_server(
                lambda: HttpConnection(self, max_frame),
                self.options.host,
                self.options.port,
                backlog=LISTEN_BACKLOG,
            )
            log.info("chat server on http://%s:%s", self.options.host, self.options.port)
            async with server:
                await server.serve_forever()
        except asyncio.CancelledError:
            log.info("chat server stopping")
        finally:
            for task in background:
                task.cancel()
            await self.presence.close()
            await self.store.close()


def _page_headers(policy: str) -> tuple[tuple[str, str], ...]:
    """What the page and its files are served with: no framing (clickjacking), no MIME
    sniffing, no Referer with the address (a #token= stays in the fragment anyway)."""
    return (
        ("Content-Security-Policy", policy),
        ("X-Frame-Options", "DENY"),  # frame-ancestors, for browsers before CSP 2
        ("Referrer-Policy", "no-referrer"),
    )


def run(server: ChatServer) -> None:
    """Serve on uvloop until SIGTERM or Ctrl-C."""
    try:
        uvloop.run(server.serve())
    finally:
        # Stopped, stores closed: a late SIGTERM (`timeout` signals the process, then its
        # group) must not turn a clean exit into "killed by signal".
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
