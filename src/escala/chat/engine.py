"""Engine.IO v4 sessions and the Socket.IO v5 layer on top, whatever the transport.

A client's session starts on HTTP long-polling (the official client's default) or
directly on websocket, and a polling session may be upgraded to websocket once. Whatever
it runs on, packets from the client come in through `Engine.receive` and go out through
the session's sink in `Rooms`: the websocket's socket, or the session's `Polling` queue.
The transports themselves live in `polling` (HTTP) and `websocket` (picows).

What the protocol asks of a server here (https://github.com/socketio/engine.io-protocol):
the server pings every pingInterval and drops a client whose pong did not come back
before the next ping (a v3 client pings itself, `eio3`); an upgrade is a probe (`2probe`
→ `3probe`), the polling side paused (its pending GET answered with a noop), then `5` on
the websocket, after which the packets still queued for polling leave, in order, on the
websocket.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from escala.chat import auth, eio3, rules, wire
from escala.chat.logs import MALFORMED
from escala.chat.rooms import Rooms, Sink
from escala.chat.service import ERROR_EVENT, ChatService

log = logging.getLogger("escala.chat.engine")

MAX_QUEUED_EVENTS = 32
"""Events of one session being handled at once (waiting on the history store, say):
past this its transport stops reading (back-pressure), and resumes at half. Refused
beyond four times this, for what a transport had already read."""


@dataclass(frozen=True)
class EngineLimits:
    """What the handshake tells clients (heartbeat timing, the largest payload), and the
    flood limits on Socket.IO events, whichever they are: per connection and per client
    IP (shared by all of that address's connections)."""

    ping_interval_s: float = 25.0
    ping_timeout_s: float = 20.0
    max_payload: int = 1_000_000
    event_rate: float = 30.0
    ip_rate: float = 500.0


class Flood:
    """The event buckets: one per session, one per client IP while it has sessions.

    Checked synchronously when an EVENT arrives, before anything is queued for it, so a
    flood costs a dict lookup per packet, not a task and a broadcast."""

    def __init__(self, limits: EngineLimits) -> None:
        self.limits = limits
        self._ips: dict[str, tuple[rules.TokenBucket, int]] = {}

    def session_bucket(self) -> rules.TokenBucket:
        return rules.TokenBucket(self.limits.event_rate, rules.burst_of(self.limits.event_rate))

    def opened(self, ip: str) -> None:
        bucket, count = self._ips.get(ip) or (self._ip_bucket(), 0)
        self._ips[ip] = (bucket, count + 1)

    def closed(self, ip: str) -> None:
        entry = self._ips.get(ip)
        if entry is None:
            return
        if entry[1] <= 1:
            del self._ips[ip]
        else:
            self._ips[ip] = (entry[0], entry[1] - 1)

    def refusal(self, session: "Session") -> str | None:
        """Why this session may not send an event now, or None."""
        if not session.events.allow():
            return f"rate limit: at most {self.limits.event_rate:g} events per second"
        entry = self._ips.get(session.ip)
        if entry is not None and not entry[0].allow():
            return f"rate limit: at most {self.limits.ip_rate:g} events per second from one address"
        return None

    def _ip_bucket(self) -> rules.TokenBucket:
        return rules.TokenBucket(self.limits.ip_rate, rules.burst_of(self.limits.ip_rate))


class Session:
    """One Engine.IO session: its transport, heartbeat and Socket.IO state."""

    __slots__ = (
        "alive",
        "attachments",
        "closed",
        "drop",
        "eio",
        "eio3",
        "events",
        "flow",
        "heard",
        "ip",
        "pending",
        "poll",
        "queued",
        "sid",
        "sink",
        "throttled",
        "upgrading",
    )

    def __init__(
        self,
        sink: Sink,
        drop: Callable[[], None],
        poll: Any = None,
        ip: str = "",
        eio3: bool = False,
    ) -> None:
        self.eio = secrets.token_urlsafe(15)  # the Engine.IO sid in the URL
        self.eio3 = eio3  # an Engine.IO v3 / Socket.IO v4 client (socket.io-client 2.x)
        self.heard = time.monotonic()  # v3: when the client last sent anything
        self.ip = ip  # the client's address, for the per-IP flood limit
        self.sid: str | None = None  # the Socket.IO sid, once CONNECT is accepted
        self.sink = sink  # where packets for this client go now
        self.drop = drop  # cut the transport, no goodbye: the client reconnects
        self.poll = poll  # the `Polling` queue while on long-polling, else None
        self.alive = True  # answered the last ping
        self.upgrading = False  # probed by a websocket, not switched yet
        self.closed = False
        self.pending: wire.Packet | None = None  # a binary packet awaiting attachments
        self.attachments: list[bytes] = []
        self.events = rules.TokenBucket(0, 0)  # set by `Engine.open`
        self.throttled = 0.0  # when it was last told about the rate limit (monotonic)
        self.queued = 0  # its events being handled now
        # Pause (True) or resume (False) reading from this client: its transport's.
        self.flow: Callable[[bool], None] = _no_flow


def _no_flow(paused: bool) -> None:
    """A session whose transport has no reading to pause (yet)."""


class Engine:
    """Every session of this replica, and what their packets do to the chat."""

    def __init__(
        self,
        service: ChatService,
        rooms: Rooms,
        limits: EngineLimits,
        verifier: auth.Verifier | None = None,
    ) -> None:
        self.service = service
        self.rooms = rooms
        self.limits = limits
        self.verifier = verifier  # None: no authentication asked for
        self.sessions: dict[str, Session] = {}
        self.flood = Flood(limits)
        self._tasks: set[asyncio.Task[Any]] = set()

    def open(
        self, session: Session, upgrades: list[str], query: dict[str, str] | None = None
    ) -> None:
        """A new session: remember it and send the handshake. A v3 client is connected
        to the chat at once, its handshake `query` as its auth (`eio3`)."""
        self.sessions[session.eio] = session
        session.events = self.flood.session_bucket()
        self.flood.opened(session.ip)
        lim = self.limits
        self.rooms.push(
            session.sink,
            wire.open_packet(
                session.eio,
                upgrades,
                int(lim.ping_interval_s * 1000),
                int(lim.ping_timeout_s * 1000),
                None if session.eio3 else lim.max_payload,
            ),
        )
        if session.eio3:
            auth_data = eio3.handshake_auth(query or {})
            self._dispatch(session, wire.Packet(wire.SIO_CONNECT, data=auth_data))

    def close(self, session: Session) -> None:
        """The session is over (either side, any transport): forget it, tell the chat."""
        if session.closed:
            return
        session.closed = True
        if self.sessions.pop(session.eio, None) is not None:
            self.flood.closed(session.ip)
        if session.sid is not None:
            sid, session.sid = session.sid, None
            self.rooms.remove(sid)
            self.spawn(self.service.disconnect(sid))

    def switch(self, session: Session, sink: Sink, drop: Callable[[], None]) -> None:
        """Finish an upgrade: what polling still held leaves first, on the new sink."""
        queue = session.poll
        queued = queue.take() if queue is not None else []
        if queue is not None and queue.waiting is not None:
            queue.send(wire.EIO_NOOP)  # a GET still held ends, empty
        session.poll, session.upgrading = None, False
        session.sink, session.drop = sink, drop
        for packet in queued:
            if packet != wire.EIO_NOOP:  # the probe's, if no GET came to take it
                self.rooms.push(sink, packet)
        if session.sid is not None:
            self.rooms.rebind(session.sid, sink)

    def receive(self, session: Session, packet: bytes | bytearray) -> bool:
        """One Engine.IO packet from the client; False if it broke the protocol (the
        transport then ends the session). A bytearray is a binary message."""
        if session.eio3:
            session.heard = time.monotonic()
        if isinstance(packet, bytearray):
            return self._attachment(session, bytes(packet))
        head = packet[:1]
        if head == wire.EIO_MESSAGE:
            return self._socketio(session, packet[1:])
        if head == wire.EIO_PONG:
            session.alive = True
            return True
        if head == wire.EIO_PING and session.eio3:
            self.rooms.push(session.sink, wire.EIO_PONG)
            return True
        if head == wire.EIO_CLOSE:
            session.drop()
            self.close(session)
            return True
        return head in (wire.EIO_PING, wire.EIO_NOOP)

    def _socketio(self, session: Session, payload: bytes) -> bool:
        try:
            packet = wire.parse(payload)
        except wire.BadPacket as e:
            MALFORMED.info("malformed input from %s, closing: %s", session.ip, e)
            return False
        if packet.attachments:
            if session.pending is not None:
                return False  # a binary packet before the last one's attachments came
            session.pending, session.attachments = packet, []
            return True
        return self._dispatch(session, packet)

    def _attachment(self, session: Session, blob: bytes) -> bool:
        pending = session.pending
        if pending is None:
            return False  # binary data that no packet announced
        session.attachments.append(blob)
        if len(session.attachments) < pending.attachments:
            return True
        session.pending = None
        try:
            packet = wire.with_attachments(pending, session.attachments)
        except wire.BadPacket as e:
            MALFORMED.info("malformed input from %s, closing: %s", session.ip, e)
            return False
        return self._dispatch(session, packet)

    def _dispatch(self, session: Session, packet: wire.Packet) -> bool:
        if packet.namespace != "/":
            self._connect_error(session, packet.namespace, "Invalid namespace")
        elif packet.kind == wire.SIO_EVENT and session.sid is not None:
            refusal = self.flood.refusal(session)
            if refusal is None and session.queued >= 4 * MAX_QUEUED_EVENTS:
                refusal = "server: too many events waiting; slow down"
            if refusal is None:
                self._queue_event(session, session.sid, packet)
            else:
                self._refuse(session, packet, refusal)
        elif packet.kind == wire.SIO_CONNECT and session.sid is None:
            identity = None
            if self.verifier is not None:
                try:
                    identity = self.verifier.verify(packet.data)
                except auth.Refused as e:
                    # As a refusing Socket.IO middleware: the client's `connect_error`.
                    self._connect_error(session, "/", str(e))
                    return True
            session.sid = secrets.token_urlsafe(15)
            self.rooms.add(session.sid, session.sink, session.drop)
            self.spawn(self._connect(session, session.sid, packet.data, identity))
        elif packet.kind == wire.SIO_DISCONNECT:
            session.drop()
            self.close(session)
        return True

    def _connect_error(self, session: Session, namespace: str, message: str) -> None:
        encode = eio3.connect_error if session.eio3 else wire.connect_error
        self.rooms.push(session.sink, encode(namespace, message))

    def _refuse(self, session: Session, packet: wire.Packet, error: str) -> None:
        """As the chat refuses bad input: an `{error}` ack if one was asked for, and a
        `chat error` event at most once a second (not once per refused packet)."""
        self.service.metrics.errors.labels(reason="rate limit").inc()
        reply = {"error": error}
        now = time.monotonic()
        if now - session.throttled >= 1.0:
            session.throttled = now
            self.rooms.push(session.sink, wire.event(ERROR_EVENT, reply))
        if packet.ack is not None:
            self.rooms.push(session.sink, wire.ack(packet.ack, reply))

    async def _connect(
        self, session: Session, sid: str, data: Any, identity: auth.Identity | None
    ) -> None:
        await self.service.connect(sid, data, identity)
        if not session.closed:
            reply = eio3.CONNECTED if session.eio3 else wire.connect_reply(sid)
            self.rooms.push(session.sink, reply)

    def _queue_event(self, session: Session, sid: str, packet: wire.Packet) -> None:
        session.queued += 1
        if session.queued == MAX_QUEUED_EVENTS:
            session.flow(True)  # stop reading this client until its events are done
        self.spawn(self._event(session, sid, packet))

    async def _event(self, session: Session, sid: str, packet: wire.Packet) -> None:
        try:
            name, *args = packet.data
            result = await self.service.handle(sid, name, tuple(args))
            if packet.ack is not None and not session.closed:
                self.rooms.push(session.sink, wire.ack(packet.ack, result))
        finally:
            session.queued -= 1
            if session.queued == MAX_QUEUED_EVENTS // 2 and not session.closed:
                session.flow(False)

    async def heartbeat(self) -> None:
        """Engine.IO v4: ping every pingInterval; a session whose pong has not come
        pingTimeout after the ping is dropped. So a session nobody uses (handshaken,
        then abandoned) counts for at most pingInterval + pingTimeout. A v3 client pings
        itself: it is dropped once it was silent for pingInterval + pingTimeout."""
        lim = self.limits
        await asyncio.sleep(lim.ping_interval_s)
        while True:
            sessions = list(self.sessions.values())
            pinged = [s for s in sessions if not s.eio3]
            for session in pinged:
                session.alive = False
                self.rooms.push(session.sink, wire.PING)
            await asyncio.sleep(lim.ping_timeout_s)
            silent_since = time.monotonic() - lim.ping_interval_s - lim.ping_timeout_s
            for session in sessions:
                lost = session.heard < silent_since if session.eio3 else not session.alive
                if lost and not session.closed:
                    session.drop()
                    self.close(session)
            await asyncio.sleep(max(0.0, lim.ping_interval_s - lim.ping_timeout_s))

    def spawn(self, coro: Any) -> None:
        """Run a service call as a task, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("chat event failed", exc_info=task.exception())
