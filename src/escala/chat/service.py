"""The chat's event handling, behind a small `Transport` so the wire can be swapped.

`ChatService` knows the chat's events (the socket.io demo's `add user`, `new message`,
`typing`, `stop typing`; the tutorial's `chat message`; escala's `join`, `users` and
`rooms`) and
what each one does to sessions, presence and history. It never imports a Socket.IO
library: it talks to whatever implements `Transport` (`rooms.Rooms` of the server, a
recorder in the tests), so moving packets and rooms stays apart from the chat itself.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from escala.chat import rules
from escala.chat.auth import Identity
from escala.chat.metrics import Metrics
from escala.chat.presence import Presence
from escala.chat.store import Record, Store

ERROR_EVENT = "chat error"
MESSAGE_EVENTS = ("new message", "chat message")
"""The broadcasts that carry a chat message (the demo's and the tutorial's): counted
once per broadcast here (`messages_out`) and once per recipient by the transport
(`messages_delivered`)."""
MAX_COUNTED_ROOMS = 20
"""How many rooms one `rooms` event may ask about (each is a presence read)."""

log = logging.getLogger("escala.chat")

Ack = Any
"""What a handler returns is the client's acknowledgement (None: no ack payload)."""


class Transport(Protocol):
    """What the chat needs from a wire: deliver events, group connections into rooms.

    `data` is one event argument, or a tuple for several (the tutorial's
    `chat message` carries `(text, serverOffset)`). Rooms are the transport's: with
    several replicas (`--redis`) a room broadcast must reach every replica's members.
    """

    async def send_to(self, sid: str, event: str, data: Any) -> None:
        """Emit `event` to one connection."""
        ...

    async def broadcast(self, room: str, event: str, data: Any, skip: str | None = None) -> None:
        """Emit `event` to every connection in `room`, except `skip` if given."""
        ...

    async def enter_room(self, sid: str, room: str) -> None:
        """Add a connection to a room; it then receives the room's broadcasts."""
        ...

    async def leave_room(self, sid: str, room: str) -> None:
        """Remove a connection from a room."""
        ...

    async def disconnect(self, sid: str) -> None:
        """Close a connection from the server side so that its client reconnects (to
        another replica, when draining): drop the transport, send no Socket.IO
        `disconnect` or Engine.IO `close` packet, which tell clients to stay away.
        The transport then calls `ChatService.disconnect` as for any closed connection.
        """
        ...


Handler = Callable[[rules.Session, tuple[Any, ...]], Awaitable[Ack]]


class ChatService:
    """The chat for one replica: call `connect`, `handle` for each event, `disconnect`.

    A transport calls these three and returns `handle`'s result as the event's ack.
    Bad input never raises: it becomes a `chat error` event plus an `{error}` ack for
    that client alone.
    """

    def __init__(
        self,
        transport: Transport,
        store: Store,
        presence: Presence,
        limits: rules.Limits,
        metrics: Metrics,
    ) -> None:
        self.transport = transport
        self.store = store
        self.presence = presence
        self.limits = limits
        self.metrics = metrics
        self.sessions: dict[str, rules.Session] = {}
        self._handlers: dict[str, Handler] = {
            "add user": self._add_user,
            "join": self._join_room,
            "users": self._users,
            "history": self._history,
            "rooms": self._rooms,
            "new message": self._new_message,
            "typing": self._typing,
            "stop typing": self._stop_typing,
            "chat message": self._chat_message,
        }

    async def connect(self, sid: str, auth: Any = None, identity: Identity | None = None) -> None:
        """A new connection: put it in the default room and replay what it missed.

        `identity` is who a verified token says the client is (`auth`): that name is
        the one it chats under, whatever `add user` asks for.

        `auth` is the client's handshake data. An integer `serverOffset` (the
        tutorial's) replays the default-room messages after that id; an integer `since`
        (escala's page, after a reconnect) makes the first room the user enters replay
        the messages after that id instead of the last N. Either replay is one page of
        at most `Limits.replay` messages; when there are more, a `history more` event
        says after which id to ask (`history {after}`) for the next page.
        """
        auth = auth if isinstance(auth, dict) else {}
        session = rules.Session(sid, self.limits, resume_after=rules.message_id(auth.get("since")))
        if identity is not None:
            session.user, session.verified_name = identity.user, identity.name
        session.owner = rules.owner_of(sid, session.user, auth.get("key"))
        self.sessions[sid] = session
        self.metrics.connected.inc()
        await self.transport.enter_room(sid, rules.DEFAULT_ROOM)
        offset = rules.message_id(auth.get("serverOffset"))
        if offset is not None:
            try:
                missed, more = await self._page_after(rules.DEFAULT_ROOM, offset)
            except Exception:
                log.exception("replaying history to %s failed", sid)
                await self._reject(sid, "server: history is unavailable; reconnect later")
                return
            for rec in missed:
                await self.transport.send_to(sid, "chat message", (rec["text"], rec["id"]))
            if more:
                await self._more(sid, rules.DEFAULT_ROOM, missed[-1]["id"])

    async def _page_after(self, room: str, after_id: int) -> tuple[list[Record], bool]:
        """One replay page after `after_id`, and whether more messages follow it."""
        page = self.limits.replay
        rows = await self.store.since(room, after_id, page + 1)
        return rows[:page], len(rows) > page

    async def _more(self, sid: str, room: str, after_id: int) -> None:
        await self.transport.send_to(sid, "history more", {"room": room, "after": after_id})

    async def disconnect(self, sid: str) -> None:
        """The connection is gone (either side closed it): tell its room it left."""
        session = self.sessions.pop(sid, None)
        if session is None:
            return
        self.metrics.connected.dec()
        if session.username is None:
            return
        try:
            await self.presence.leave(session.room, sid)
            num = await self.presence.count(session.room)
        except Exception:
            log.exception("presence of %s could not be withdrawn", sid)
            return
        await self.transport.broadcast(
            session.room,
            "user left",
            {"username": session.username, "numUsers": num, "room": session.room},
            skip=sid,
        )

    async def handle(self, sid: str, event: str, args: tuple[Any, ...]) -> Ack:
        """Run one client event; returns the ack. Unknown events and sids are ignored.

        A failure of the stores behind it (database or Redis down) becomes a `server:`
        error for that client, and the replica carries on.
        """
        handler = self._handlers.get(event)
        session = self.sessions.get(sid)
        if handler is None or session is None:
            return None
        started = time.perf_counter()
        try:
            return await handler(session, args)
        except Exception:
            log.exception("%r from %s failed", event, sid)
            return await self._reject(sid, f"server: {event} failed; try again")
        finally:
            self.metrics.latency.labels(event=event).observe(time.perf_counter() - started)

    async def _reject(self, sid: str, error: str) -> dict[str, str]:
        self.metrics.errors.labels(reason=error.split(":", 1)[0]).inc()
        await self.transport.send_to(sid, ERROR_EVENT, {"error": error})
        return {"error": error}

    async def _add_user(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        if session.username is not None:
            return None
        try:
            wanted = session.verified_name or rules.clean_nickname(_arg(args, 0), self.limits)
        except rules.Rejected as e:
            return await self._reject(session.sid, str(e))
        if not await self.presence.claim(session.room, session.sid, wanted, session.owner):
            return await self._reject(session.sid, _taken(wanted, session.room))
        session.username = wanted
        return {"numUsers": await self._enter(session, session.room), "username": wanted}

    async def _enter(self, session: rules.Session, room: str, moved_from: str | None = None) -> int:
        """Put a logged-in session, whose name `room`'s presence has granted, in `room`;
        returns the room's user count (0 when the client disconnected meanwhile).
        `moved_from` rides on `user joined` as `from`, so pages show a room switch as
        one, not as a newcomer."""
        sid = session.sid
        session.room, session.typing = room, False
        await self.transport.enter_room(sid, room)
        if self.sessions.get(sid) is not session:
            # The client went away while it was moving in: `disconnect` ran before this
            # join, so it could not withdraw it from here; do it now, or it stays listed.
            await self.presence.leave(room, sid)
            return 0
        num = await self.presence.count(room)
        await self.transport.send_to(
            sid, "login", {"numUsers": num, "room": room, "username": session.username}
        )
        since, session.resume_after = session.resume_after, None
        more = False
        if since is None:
            history = await self.store.recent(room, self.limits.history)
        else:
            history, more = await self._page_after(room, since)
        if history:
            await self.transport.send_to(
                sid, "history", [rules.message_payload(r) for r in history]
            )
        if more:
            await self._more(sid, room, history[-1]["id"])
        joined = {"username": session.username, "numUsers": num, "room": room}
        if moved_from is not None:
            joined["from"] = moved_from
        await self.transport.broadcast(room, "user joined", joined, skip=sid)
        return num

    async def _join_room(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        sid = session.sid
        if session.username is None:
            return await self._reject(sid, "join: send `add user` first")
        try:
            target = rules.clean_room(_arg(args, 0), self.limits)
        except rules.Rejected as e:
            return await self._reject(sid, str(e))
        old = session.room
        if target == old:
            return {"room": target, "numUsers": await self.presence.count(target)}
        if not await self.presence.claim(target, sid, session.username, session.owner):
            return await self._reject(sid, "join: " + _taken(session.username, target))
        session.resume_after = rules.message_id(_arg(args, 1))  # `join(room, since)`
        await self.presence.leave(old, sid)
        await self.transport.leave_room(sid, old)
        num_left = await self.presence.count(old)
        await self.transport.broadcast(  # `to`: it moved rooms, it did not leave the chat
            old,
            "user left",
            {"username": session.username, "numUsers": num_left, "room": old, "to": target},
        )
        return {"room": target, "numUsers": await self._enter(session, target, moved_from=old)}

    async def _history(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        """`history({after: id})` or `history({before: id})`: one page of the current
        room's messages after (catching up) or before (scrolling back) an id, and whether
        there are more; a client pages through a long history one request at a time."""
        query = _arg(args, 0)
        query = query if isinstance(query, dict) else {}
        after, before = rules.message_id(query.get("after")), rules.message_id(query.get("before"))
        if (after is None) == (before is None):
            return await self._reject(
                session.sid, "history: give {after: <message id>} or {before: <message id>}"
            )
        if after is not None:
            rows, more = await self._page_after(session.room, after)
        else:
            page = self.limits.replay
            rows = await self.store.recent(session.room, page + 1, before=before)
            more = len(rows) > page
            rows = rows[-page:]
        return {
            "room": session.room,
            "messages": [rules.message_payload(r) for r in rows],
            "more": more,
        }

    async def _users(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        return {"room": session.room, "users": await self.presence.users(session.room)}

    async def _rooms(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        """`rooms([name, ...])`: how many are in each named room, wherever they are
        connected; the page lists the rooms it knows with these counts."""
        names = _arg(args, 0)
        if not isinstance(names, list) or len(names) > MAX_COUNTED_ROOMS:
            return await self._reject(
                session.sid, f"rooms: give a list of at most {MAX_COUNTED_ROOMS} room names"
            )
        try:
            rooms = list(dict.fromkeys(rules.clean_room(n, self.limits) for n in names))
        except rules.Rejected as e:
            return await self._reject(session.sid, str(e))
        return {"rooms": [{"room": r, "numUsers": await self.presence.count(r)} for r in rooms]}

    def _check(self, session: rules.Session, text: Any, logged_in: bool) -> str | None:
        if not logged_in:
            return "message: send `add user` first"
        if not session.bucket.allow():
            return f"rate limit: at most {self.limits.rate_per_second:g} messages per second"
        try:
            rules.clean_text(text, self.limits)
        except rules.Rejected as e:
            return str(e)
        return None

    async def _new_message(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        text = _arg(args, 0)
        error = self._check(session, text, session.username is not None)
        if error:
            return await self._reject(session.sid, error)
        self.metrics.messages_in.inc()
        rec, _ = await self.store.add(session.room, session.username or "", text)
        self.metrics.messages_out.inc()
        await self.transport.broadcast(
            session.room, "new message", rules.message_payload(rec), skip=session.sid
        )
        return {"id": rec["id"], "ts": rec["ts"]}

    async def _typing(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        await self._typing_event(session, "typing")

    async def _stop_typing(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        await self._typing_event(session, "stop typing")

    async def _typing_event(self, session: rules.Session, event: str) -> None:
        """Broadcast only a change: a client repeating `typing` (once per key, or a
        flood) costs the room one broadcast, not one per packet."""
        typing = event == "typing"
        if session.username is not None and session.typing != typing:
            session.typing = typing
            await self.transport.broadcast(
                session.room, event, {"username": session.username}, skip=session.sid
            )

    async def _chat_message(self, session: rules.Session, args: tuple[Any, ...]) -> Ack:
        text, client_offset = _arg(args, 0), _arg(args, 1)
        # Logged in: `add user`, or a verified token; the tutorial's page never logs in,
        # so it chats only on a server started with --allow-anonymous.
        logged_in = (session.username or session.user) is not None or self.limits.anonymous
        error = self._check(session, text, logged_in)
        if not logged_in:
            error = f"{error} (or serve with --allow-anonymous, for the tutorial's page)"
        if error:
            return await self._reject(session.sid, error)
        try:
            offset = rules.clean_client_offset(client_offset, self.limits)
        except rules.Rejected as e:
            return await self._reject(session.sid, str(e))
        self.metrics.messages_in.inc()  # received, as for `new message`: before the store
        rec, created = await self.store.add(
            rules.DEFAULT_ROOM, session.username or session.verified_name or "", text, offset
        )
        if created:
            self.metrics.messages_out.inc()
            await self.transport.broadcast(
                rules.DEFAULT_ROOM, "chat message", (rec["text"], rec["id"])
            )
        return None


def _taken(name: str, room: str) -> str:
    return f"username: {name!r} is already taken in #{room}; pick another nickname"


def _arg(args: tuple[Any, ...], index: int) -> Any:
    """The event's `index`th argument, or None when the client sent fewer."""
    return args[index] if len(args) > index else None
