"""The Socket.IO shell around the chat: the ASGI app of a replica and one namespace.

Wire-compatible with the socket.io chat demo (`add user`, `new message`, `typing`,
`stop typing`) and the getting-started tutorial (`chat message` with serverOffset replay
and clientOffset exactly-once). What each event does lives in `service`, the rules in
`core`, history in `store`; this module only moves events. python-socketio's manager encodes a
broadcast packet once and sends the same bytes to every recipient.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

from escala.chat import core, wire
from escala.chat.metrics import Metrics
from escala.chat.presence import LocalPresence, Presence, RedisPresence
from escala.chat.service import ChatService
from escala.chat.store import Store, StoreError

log = logging.getLogger("escala.chat")

STATIC = Path(__file__).parent / "static"


@dataclass
class Settings:
    limits: core.Limits = field(default_factory=core.Limits)
    redis_url: str | None = None
    presence_ttl: float = 15.0
    static_dir: Path | None = None
    cors: list[str] | str = "*"
    ping_interval: float = 25.0


class ChatNamespace(socketio.AsyncNamespace):
    """python-socketio → `ChatService`: the `Transport` for the default namespace.

    Events go to the service unchanged (the demo's names have spaces, so no
    `on_<event>` methods); the service's emits and rooms come back through the
    `Transport` methods: `send_to`, `broadcast` and `disconnect` below; `enter_room`
    and `leave_room` are python-socketio's own.
    """

    def __init__(
        self, store: Store, presence: Presence, limits: core.Limits, metrics: Metrics
    ) -> None:
        super().__init__("/")
        self.service = ChatService(self, store, presence, limits, metrics)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            sid, _environ, *rest = args
            await self.service.connect(sid, rest[0] if rest else None)
            return None
        if event == "disconnect":
            await self.service.disconnect(args[0])
            return None
        return await self.service.handle(args[0], event, tuple(args[1:]))

    async def send_to(self, sid: str, event: str, data: Any) -> None:
        await self.emit(event, data, to=sid)

    async def broadcast(self, room: str, event: str, data: Any, skip: str | None = None) -> None:
        await self.emit(event, data, room=room, skip_sid=skip)

    async def disconnect(self, sid: str, namespace: str | None = None) -> None:
        """Close the client's Engine.IO connection without a goodbye packet.

        A Socket.IO `disconnect` (or an Engine.IO `close`) packet tells clients the
        server meant it, and they stay away; a dropped transport makes both the JS
        and the Python clients reconnect, which is what a draining replica wants.
        """
        eio = self.server.eio
        eio_sid = self.server.manager.eio_sid_from_sid(sid, namespace or self.namespace)
        socket = eio.sockets.pop(eio_sid, None) if eio_sid else None
        if socket is None:
            return
        await socket.close(wait=False, abort=True, reason=eio.reason.TRANSPORT_CLOSE)
        await socket.queue.put(None)  # ends the websocket writer, which closes the socket


class ChatApp:
    """The ASGI app of one replica: Socket.IO on /socket.io/, the page (or --static DIR)
    on /, /healthz, /readyz, /metrics; `drain()` for a graceful SIGTERM."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.presence: Presence = (
            RedisPresence(settings.redis_url, settings.presence_ttl)
            if settings.redis_url
            else LocalPresence()
        )
        manager = socketio.AsyncRedisManager(settings.redis_url) if settings.redis_url else None
        kwargs: dict[str, Any] = {"client_manager": manager} if manager else {}
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins=settings.cors,
            max_http_buffer_size=max(1_000_000, settings.limits.max_message * 8),
            ping_interval=settings.ping_interval,
            ping_timeout=wire.ping_timeout(settings.ping_interval),
            **kwargs,
        )
        self.metrics = Metrics()
        namespace = ChatNamespace(store, self.presence, settings.limits, self.metrics)
        self.service = namespace.service
        self.sio.register_namespace(namespace)
        root = settings.static_dir or STATIC
        self.inner = socketio.ASGIApp(self.sio, static_files={"/": f"{root}/"})
        self.client_js = (STATIC / "vendor" / "socket.io.min.js").read_bytes()
        self.draining = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and path == "/healthz":
            await _respond(send, 200, b"ok\n", b"text/plain")
        elif scope["type"] == "http" and path == "/readyz":
            ok, why = await self.ready()
            await _respond(send, 200 if ok else 503, why.encode() + b"\n", b"text/plain")
        elif scope["type"] == "http" and path == "/metrics":
            await _respond(send, 200, self.metrics.render(), b"text/plain; version=0.0.4")
        elif scope["type"] == "http" and path == "/socket.io/socket.io.js":
            await _respond(send, 200, self.client_js, b"application/javascript")
        elif self.draining and _is_handshake(scope):
            await _refuse(scope, send)
        else:
            await self.inner(scope, receive, send)

    async def ready(self) -> tuple[bool, str]:
        """Ready means: not draining, and the history and presence stores answer."""
        if self.draining:
            return False, "draining"
        if not await self.store.ping():
            return False, "history store not reachable"
        if not await self.presence.ping():
            return False, "presence store (redis) not reachable"
        return True, "ok"

    async def drain(self, deadline: float) -> None:
        """Stop taking new clients, then close every connection so its client
        reconnects to another replica, spread over half of `deadline` seconds so the
        others are not hit by every reconnect at once. History is flushed after, by
        the lifespan shutdown."""
        self.draining = True
        sids = list(self.service.sessions)
        log.info("draining: closing %d connections over %.1fs", len(sids), deadline / 2)
        step = deadline / 2 / max(1, len(sids))
        for sid in sids:
            await asyncio.sleep(step)
            await self.service.transport.disconnect(sid)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Redis first: an unreachable one stops startup before a history file
                # is created.
                try:
                    await self.presence.start()
                    await self.store.open()
                except StoreError as e:
                    await self.store.close()
                    await self.presence.close()
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.presence.close()
                await self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _is_handshake(scope: dict[str, Any]) -> bool:
    """A new Engine.IO session (no sid yet): what a draining replica refuses."""
    return scope["path"].startswith("/socket.io/") and b"sid=" not in scope.get("query_string", b"")


async def _refuse(scope: dict[str, Any], send: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1013})
    else:
        await _respond(send, 503, b"draining\n", b"text/plain")


async def _respond(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type)],
        }
    )
    await send({"type": "http.response.body", "body": body})
