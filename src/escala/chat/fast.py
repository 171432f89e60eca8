"""`escala chat serve --server fast`: the chat on picows + uvloop, Socket.IO spoken directly.

python-socketio spends most of a broadcast's time on per-recipient work (a queue, a task
and a packet object per client); this server drives the same `ChatService` through the
`Transport` protocol and writes one pre-encoded frame to every member of a room, from
picows's synchronous callbacks on uvloop.

What it serves on its one port: the Socket.IO websocket transport (Engine.IO v4, Socket.IO
v5, default namespace, text packets), /healthz, /readyz, /metrics, /socket.io/socket.io.js
and the static page. What it does not: HTTP long-polling (a polling handshake is answered
`400 Transport unknown`, as Engine.IO does for a disabled transport: clients must start
with the websocket transport, as escala's page does), binary packets, other namespaces.
With `--redis`, broadcasts reach every replica through `relay` and presence is
cluster-wide, as on the uvicorn server; SIGTERM drains as the uvicorn server does.
"""

import asyncio
import logging
import mimetypes
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import uvloop
from picows import (
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

from escala.chat import core, wire
from escala.chat.metrics import Metrics
from escala.chat.presence import LocalPresence, Presence, RedisPresence
from escala.chat.relay import RedisRelay
from escala.chat.rooms import Rooms
from escala.chat.service import ChatService
from escala.chat.store import Store

log = logging.getLogger("escala.chat.fast")

STATIC = Path(__file__).parent / "static"
TEXT = WSMsgType.TEXT
READY_EVERY_S = 2.0
READ_BUFFER_BYTES = 2048
# Of --drain-timeout, what the drain may use; the rest is for closing the stores.
DRAIN_SHARE = 0.8


@dataclass(frozen=True)
class FastSettings:
    """The knobs of the fast server; the chat's own limits live in the service."""

    host: str
    port: int
    static_dir: Path | None = None
    redis_url: str | None = None
    presence_ttl: float = 15.0
    drain_timeout: float = 10.0
    max_payload: int = 1_000_000
    ping_interval_s: float = 25.0
    ping_timeout_s: float = 20.0


class _Connection(WSListener):
    """One websocket client: Engine.IO framing in, ChatService calls out.

    picows calls `on_ws_frame` synchronously for every frame; only events that reach the
    service (which may wait on the history store) become tasks.
    """

    def __init__(self, server: "FastServer") -> None:
        self.server = server
        self.sid: str | None = None  # the Socket.IO sid, once CONNECT is accepted
        self.ws: WSTransport | None = None
        self.alive = True  # answered the last ping

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.ws = transport
        self.server.connections.add(self)
        s = self.server.settings
        self.server.rooms.push(
            transport,
            wire.open_packet(
                secrets.token_urlsafe(15),
                int(s.ping_interval_s * 1000),
                int(s.ping_timeout_s * 1000),
                s.max_payload,
            ),
        )

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.server.connections.discard(self)
        if self.sid is not None:
            sid, self.sid = self.sid, None
            self.server.rooms.remove(sid)
            self.server.spawn(self.server.service.disconnect(sid))

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != TEXT:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()  # binary packets are not supported
            return
        payload = frame.get_payload_as_bytes()
        head = payload[:1]
        if head == wire.EIO_MESSAGE:
            self._socketio(transport, payload[1:])
        elif head == wire.EIO_PONG:
            self.alive = True
        elif head == wire.EIO_CLOSE:
            transport.disconnect()

    def _socketio(self, transport: WSTransport, payload: bytes) -> None:
        try:
            packet = wire.parse(payload)
        except wire.BadPacket as e:
            log.debug("closing a client that sent a bad packet: %s", e)
            transport.disconnect()
            return
        if packet.namespace != "/":
            self.server.rooms.push(
                transport, wire.connect_error(packet.namespace, "Invalid namespace")
            )
        elif packet.kind == wire.SIO_EVENT and self.sid is not None:
            self.server.spawn(self._event(transport, self.sid, packet))
        elif packet.kind == wire.SIO_CONNECT and self.sid is None:
            self.sid = secrets.token_urlsafe(15)
            self.server.rooms.add(self.sid, transport)
            self.server.spawn(self._connect(transport, self.sid, packet.data))
        elif packet.kind == wire.SIO_DISCONNECT:
            transport.disconnect()

    async def _connect(self, transport: WSTransport, sid: str, auth: Any) -> None:
        await self.server.service.connect(sid, auth)
        if not transport.is_disconnected:
            self.server.rooms.push(transport, wire.connect_reply(sid))

    async def _event(self, transport: WSTransport, sid: str, packet: wire.Packet) -> None:
        name, *args = packet.data
        result = await self.server.service.handle(sid, name, tuple(args))
        if packet.ack is not None and not transport.is_disconnected:
            self.server.rooms.push(transport, wire.ack(packet.ack, result))


class FastServer:
    """The listening socket, its connections, the heartbeat and the HTTP routes."""

    def __init__(
        self, store: Store, limits: core.Limits, metrics: Metrics, settings: FastSettings
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.settings = settings
        self.relay = RedisRelay(settings.redis_url) if settings.redis_url else None
        self.presence: Presence = (
            RedisPresence(settings.redis_url, settings.presence_ttl)
            if settings.redis_url
            else LocalPresence()
        )
        self.rooms = Rooms(self.relay)
        self.service = ChatService(self.rooms, store, self.presence, limits, metrics)
        self.connections: set[_Connection] = set()
        self.ready = False
        self.draining = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._static = (settings.static_dir or STATIC).resolve()
        self._client_js = (STATIC / "vendor" / "socket.io.min.js").read_bytes()

    def spawn(self, coro: Any) -> None:
        """Run a service call as a task, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("chat event failed", exc_info=task.exception())

    def route(self, request: WSUpgradeRequest) -> WSListener | WSUpgradeResponseWithListener:
        """picows's router: the websocket transport, or a small HTTP answer (GET only)."""
        url = urlsplit(request.path.decode("latin-1"))
        if url.path in ("/socket.io/", "/socket.io"):
            transport = parse_qs(url.query).get("transport", [""])[0]
            if transport == "websocket" and not self.draining:
                return _Connection(self)
            if self.draining:
                return _http(WSUpgradeResponse.create_error_response(503, b"draining\n"))
            body = b'{"code":0,"message":"Transport unknown"}'
            return _http(WSUpgradeResponse.create_error_response(400, body, _json_type()))
        if url.path == "/healthz":
            return _ok(b"ok\n", "text/plain")
        if url.path == "/readyz":
            if self.ready and not self.draining:
                return _ok(b"ok\n", "text/plain")
            return _http(WSUpgradeResponse.create_error_response(503, b"not ready\n"))
        if url.path == "/metrics":
            return _ok(self.metrics.render(), "text/plain; version=0.0.4")
        if url.path == "/socket.io/socket.io.js":
            return _ok(self._client_js, "application/javascript")
        return self._static_file(url.path)

    def _static_file(self, path: str) -> WSUpgradeResponseWithListener:
        target = (self._static / (path.lstrip("/") or "index.html")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self._static) or not target.is_file():
            return _http(WSUpgradeResponse.create_error_response(404, b"not found\n"))
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return _ok(target.read_bytes(), kind)

    async def readiness(self) -> None:
        """Refresh /readyz's answer: picows's router is synchronous and cannot ask the store."""
        while True:
            self.ready = await self.store.ping() and await self.presence.ping()
            await asyncio.sleep(READY_EVERY_S)

    async def heartbeat(self) -> None:
        """Engine.IO v4: the server pings; a client that missed the last pong is closed."""
        while True:
            await asyncio.sleep(self.settings.ping_interval_s)
            for conn in list(self.connections):
                if conn.ws is None:
                    continue
                if not conn.alive:
                    conn.ws.disconnect()
                    continue
                conn.alive = False
                self.rooms.push(conn.ws, wire.PING)

    def _sigterm(self, main: "asyncio.Task[Any]") -> None:
        """The first SIGTERM drains, then stops; a second one stops at once."""
        if self.draining:
            main.cancel()
            return
        self.draining = True
        self.spawn(self._drain_then_stop(main))

    async def _drain_then_stop(self, main: "asyncio.Task[Any]") -> None:
        """What the uvicorn server's drain does: /readyz 503 and no new clients (above),
        then every connection dropped like a broken transport, spread over half the
        budget, so Socket.IO clients reconnect to another replica and not all at once.
        History is flushed when the stores close after."""
        budget = self.settings.drain_timeout * DRAIN_SHARE
        sids = list(self.service.sessions)
        log.info("SIGTERM: draining %d connections over %.1fs", len(sids), budget / 2)
        step = budget / 2 / max(1, len(sids))
        try:
            async with asyncio.timeout(budget):
                for sid in sids:
                    await asyncio.sleep(step)
                    await self.rooms.disconnect(sid)
        except TimeoutError:
            log.warning("drain deadline passed; closing what is left")
        main.cancel()

    async def serve(self) -> None:
        """Listen until Ctrl-C, or SIGTERM and a drain; then close the listener and stores."""
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        assert main is not None
        loop.add_signal_handler(signal.SIGINT, main.cancel)
        loop.add_signal_handler(signal.SIGTERM, self._sigterm, main)
        # Redis first: an unreachable one stops startup before a history file is created.
        await self.presence.start()
        if self.relay is not None:
            await self.relay.start()
        await self.store.open()
        background = [
            asyncio.create_task(self.readiness()),
            asyncio.create_task(self.heartbeat()),
        ]
        if self.relay is not None:
            background.append(asyncio.create_task(self.relay.run(self.rooms.deliver)))
        try:
            server = await ws_create_server(
                self.route,
                self.settings.host,
                self.settings.port,
                max_frame_size=self.settings.max_payload,
                websocket_handshake_timeout=10,
                # picows allocates 16 KiB per connection by default; chat packets are
                # small and the buffer grows when one is not.
                read_buffer_init_size=READ_BUFFER_BYTES,
            )
            log.info("fast chat server on %s:%s", self.settings.host, self.settings.port)
            async with server:
                await server.serve_forever()
        except asyncio.CancelledError:
            log.info("fast chat server stopping")
        finally:
            for task in background:
                task.cancel()
            await self.presence.close()
            await self.store.close()


def _json_type() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _ok(body: bytes, content_type: str) -> WSUpgradeResponseWithListener:
    return _http(WSUpgradeResponse.create_ok_response(body, {"Content-Type": content_type}))


def _http(response: WSUpgradeResponse) -> WSUpgradeResponseWithListener:
    return WSUpgradeResponseWithListener(response, None)


def run(server: FastServer) -> None:
    """Serve on uvloop until SIGTERM or Ctrl-C."""
    uvloop.run(server.serve())
