"""The Socket.IO shell around the chat: an ASGI app factory and one namespace.

Wire-compatible with the socket.io chat demo (`add user`, `new message`, `typing`,
`stop typing`) and the getting-started tutorial (`chat message` with serverOffset replay
and clientOffset exactly-once). What each event does lives in `service`, the rules in
`core`, history in `store`; this module only moves events. python-socketio's manager encodes a
broadcast packet once and sends the same bytes to every recipient.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

from escala.chat import core
from escala.chat.metrics import Metrics
from escala.chat.service import ChatService
from escala.chat.store import Store

log = logging.getLogger("escala.chat")

STATIC = Path(__file__).parent / "static"


@dataclass
class Settings:
    limits: core.Limits = field(default_factory=core.Limits)
    redis_url: str | None = None
    static_dir: Path | None = None
    cors: list[str] | str = "*"


class ChatNamespace(socketio.AsyncNamespace):
    """python-socketio → `ChatService`: the `Transport` for the default namespace.

    Events go to the service unchanged (the demo's names have spaces, so no
    `on_<event>` methods); the service's emits and rooms come back through the
    `Transport` methods: `send_to` and `broadcast` below; `enter_room`, `leave_room`
    and `disconnect` are python-socketio's own.
    """

    def __init__(self, store: Store, limits: core.Limits, metrics: Metrics) -> None:
        super().__init__("/")
        self.service = ChatService(self, store, limits, metrics)

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


def create_app(store: Store, settings: Settings) -> tuple[Any, socketio.AsyncServer]:
    """Build the ASGI app: Socket.IO on /socket.io/, the page (or --static DIR) on /."""
    manager = socketio.AsyncRedisManager(settings.redis_url) if settings.redis_url else None
    kwargs: dict[str, Any] = {"client_manager": manager} if manager else {}
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=settings.cors,
        max_http_buffer_size=max(1_000_000, settings.limits.max_message * 8),
        **kwargs,
    )
    metrics = Metrics()
    sio.register_namespace(ChatNamespace(store, settings.limits, metrics))
    root = settings.static_dir or STATIC
    inner = socketio.ASGIApp(sio, static_files={"/": f"{root}/"})
    client_js = (STATIC / "vendor" / "socket.io.min.js").read_bytes()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in ("/healthz", "/readyz"):
            ok = scope["path"] == "/healthz" or await store.ping()
            body = b"ok\n" if ok else b"not ready\n"
            await _respond(send, 200 if ok else 503, body, b"text/plain")
            return
        if scope["type"] == "http" and scope["path"] == "/metrics":
            await _respond(send, 200, metrics.render(), b"text/plain; version=0.0.4")
            return
        if scope["type"] == "http" and scope["path"] == "/socket.io/socket.io.js":
            await _respond(send, 200, client_js, b"application/javascript")
            return
        if scope["type"] == "lifespan":
            await _lifespan(store, receive, send)
            return
        await inner(scope, receive, send)

    return app, sio


async def _respond(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type)],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(store: Store, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await store.open()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await store.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
