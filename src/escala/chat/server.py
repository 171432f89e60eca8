"""The Socket.IO shell around the chat: an ASGI app factory and one namespace.

Wire-compatible with the socket.io chat demo (`add user`, `new message`, `typing`,
`stop typing`) and the getting-started tutorial (`chat message` with serverOffset replay
and clientOffset exactly-once). The rules live in `core`, history in `store`; this module
only moves events. python-socketio's manager encodes a broadcast packet once and sends the
same bytes to every recipient.
"""

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

from escala.chat import core
from escala.chat.metrics import Metrics
from escala.chat.store import Store

log = logging.getLogger("escala.chat")

STATIC = Path(__file__).parent / "static"
ERROR_EVENT = "chat error"


@dataclass
class Settings:
    limits: core.Limits = field(default_factory=core.Limits)
    redis_url: str | None = None
    static_dir: Path | None = None
    cors: list[str] | str = "*"


class ChatNamespace(socketio.AsyncNamespace):
    """One handler per client event; each turns a Rejected rule into an error for that client."""

    def __init__(self, store: Store, limits: core.Limits, metrics: Metrics) -> None:
        super().__init__("/")
        self.metrics = metrics
        self.store = store
        self.limits = limits
        self.sessions: dict[str, core.Session] = {}
        self.presence = core.Presence()

    async def _reject(self, sid: str, error: str) -> dict[str, str]:
        self.metrics.errors.labels(reason=error.split(":", 1)[0]).inc()
        await self.emit(ERROR_EVENT, {"error": error}, to=sid)
        return {"error": error}

    def _count(self, room: str) -> int:
        """Logged-in users in a room on this replica (cluster-wide counts: not yet)."""
        return self.presence.count(room)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        self.sessions[sid] = core.Session(sid, self.limits)
        self.metrics.connected.inc()
        await self.enter_room(sid, core.DEFAULT_ROOM)
        offset = auth.get("serverOffset") if isinstance(auth, dict) else None
        if isinstance(offset, int) and not isinstance(offset, bool):
            for rec in await self.store.since(core.DEFAULT_ROOM, offset):
                await self.emit("chat message", (rec["text"], rec["id"]), to=sid)

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        session = self.sessions.pop(sid, None)
        self.metrics.connected.dec()
        if session is None or session.username is None:
            return
        self.presence.leave(session.room, sid)
        await self.emit(
            "user left",
            {
                "username": session.username,
                "numUsers": self._count(session.room),
                "room": session.room,
            },
            room=session.room,
            skip_sid=sid,
        )

    async def on_add_user(self, sid: str, username: Any = None) -> dict[str, Any] | None:
        session = self.sessions[sid]
        if session.username is not None:
            return None
        try:
            session.username = core.clean_nickname(username, self.limits)
        except core.Rejected as e:
            return await self._reject(sid, str(e))
        await self._join(session, session.room)
        return {"numUsers": self._count(session.room)}

    async def _join(self, session: core.Session, room: str) -> None:
        sid = session.sid
        session.room = room
        await self.enter_room(sid, room)
        self.presence.join(room, sid, session.username or "")
        num = self._count(room)
        await self.emit("login", {"numUsers": num, "room": room}, to=sid)
        history = await self.store.recent(room, self.limits.history)
        if history:
            await self.emit("history", [core.message_payload(r) for r in history], to=sid)
        await self.emit(
            "user joined",
            {"username": session.username, "numUsers": num, "room": room},
            room=room,
            skip_sid=sid,
        )

    async def on_join(self, sid: str, room: Any = None) -> dict[str, Any]:
        session = self.sessions[sid]
        if session.username is None:
            return await self._reject(sid, "join: send `add user` first")
        try:
            target = core.clean_room(room, self.limits)
        except core.Rejected as e:
            return await self._reject(sid, str(e))
        old = session.room
        if target != old:
            self.presence.leave(old, sid)
            await self.leave_room(sid, old)
            await self.emit(
                "user left",
                {"username": session.username, "numUsers": self._count(old), "room": old},
                room=old,
            )
            await self._join(session, target)
        return {"room": target, "numUsers": self._count(target)}

    async def on_users(self, sid: str, *args: Any) -> dict[str, Any]:
        session = self.sessions[sid]
        return {"room": session.room, "users": self.presence.users(session.room)}

    async def on_new_message(self, sid: str, text: Any = None, *args: Any) -> dict[str, Any]:
        session = self.sessions[sid]
        error = self._check(session, text)
        if error:
            return await self._reject(sid, error)
        self.metrics.messages_in.inc()
        rec, _ = await self.store.add(session.room, session.username or "", text)
        self.metrics.messages_out.inc()
        await self.emit("new message", core.message_payload(rec), room=session.room, skip_sid=sid)
        return {"id": rec["id"], "ts": rec["ts"]}

    def _check(self, session: core.Session, text: Any, need_user: bool = True) -> str | None:
        if need_user and session.username is None:
            return "message: send `add user` first"
        if not session.bucket.allow():
            return f"rate limit: at most {self.limits.rate_per_second:g} messages per second"
        try:
            core.clean_text(text, self.limits)
        except core.Rejected as e:
            return str(e)
        return None

    async def on_typing(self, sid: str, *args: Any) -> None:
        await self._typing(sid, "typing")

    async def on_stop_typing(self, sid: str, *args: Any) -> None:
        await self._typing(sid, "stop typing")

    async def _typing(self, sid: str, event: str) -> None:
        session = self.sessions[sid]
        if session.username is not None:
            await self.emit(event, {"username": session.username}, room=session.room, skip_sid=sid)

    async def on_chat_message(
        self, sid: str, text: Any = None, client_offset: Any = None, *args: Any
    ) -> Any:
        session = self.sessions[sid]
        error = self._check(session, text, need_user=False)
        if error:
            return await self._reject(sid, error)
        offset = client_offset if isinstance(client_offset, str) else None
        rec, created = await self.store.add(
            core.DEFAULT_ROOM, session.username or "anonymous", text, offset
        )
        self.metrics.messages_in.inc()
        if created:
            self.metrics.messages_out.inc()
            await self.emit("chat message", (rec["text"], rec["id"]), room=core.DEFAULT_ROOM)
        return None

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Map the demo's spaced event names to handlers; unknown events are ignored."""
        started = time.perf_counter()
        try:
            return await super().trigger_event(event.replace(" ", "_"), *args)
        finally:
            self.metrics.latency.labels(event=event).observe(time.perf_counter() - started)


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
