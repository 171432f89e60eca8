"""The HTTP long-polling transport: GET receives, POST sends, per Engine.IO v4.

A GET is held until the server has packets for the client (or the next ping, at most
pingInterval later) and answered with them joined by the record separator; a POST
carries the client's packets the same way and is answered `ok`. What the protocol
refuses is a 400 with Engine.IO's JSON error body: an unknown sid, a sid of a
websocket session, a body that is not Engine.IO packets (the session is closed), a POST
larger than maxPayload (closed too), a second GET while one is held (both end: the held
one gets a `close` packet, the session is closed). An Engine.IO v3 session (`eio3`)
frames its payloads the v3 way.
"""

from collections.abc import Callable

import orjson

from escala.chat import eio3, wire
from escala.chat.engine import MAX_QUEUED_EVENTS, Engine, Session
from escala.chat.http import HttpConnection, Request
from escala.chat.logs import MALFORMED
from escala.chat.outbox import PollQueue

# Engine.IO's error codes (engine.io's Server.errors), sent as {"code", "message"}.
UNKNOWN_TRANSPORT = (0, "Transport unknown")
UNKNOWN_SID = (1, "Session ID unknown")
BAD_HANDSHAKE_METHOD = (2, "Bad handshake method")
BAD_REQUEST = (3, "Bad request")
FORBIDDEN = (4, "Forbidden")  # answered with 403, as engine.io's `allowRequest` refusal
UNSUPPORTED_VERSION = (5, "Unsupported protocol version")
# engine.io 3.x answered `j=` (JSONP, for browsers without CORS) as polling; not here.
JSONP_REFUSED = (BAD_REQUEST[0], "JSONP polling is not supported: use XHR polling or websocket")


def refuse(conn: HttpConnection, error: tuple[int, str], status: int = 400) -> None:
    code, message = error
    body = orjson.dumps({"code": code, "message": message})
    conn.respond(status, body, "application/json")


class Polling:
    """Long-polling requests against the engine's sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._held_posts: dict[Session, HttpConnection] = {}

    def handshake(self, conn: HttpConnection, request: Request, ip: str, v3: bool) -> None:
        """A GET without sid: a new session on long-polling, offered the upgrade; `ip`
        is the client's address (`http.client_ip`), `v3` an Engine.IO v3 client."""
        queue = PollQueue()
        session = Session(queue, lambda: None, poll=queue, ip=ip, eio3=v3)
        session.drop = lambda: self._drop(session)
        session.flow = lambda paused: None if paused else self._release(session)
        queue.overflow = session.drop
        self.engine.open(session, upgrades=["websocket"], query=request.query)
        self.get(conn, session)

    def request(self, conn: HttpConnection, request: Request, session: Session) -> None:
        """A GET or POST of an existing session."""
        if session.poll is None:
            refuse(conn, BAD_REQUEST)  # the sid is a websocket session's
        elif request.method == "GET":
            self.get(conn, session)
        elif request.method == "POST":
            self.post(conn, request, session)
        else:
            refuse(conn, BAD_REQUEST)

    def get(self, conn: HttpConnection, session: Session) -> None:
        queue = session.poll
        assert queue is not None
        if queue.waiting is not None:
            # A second GET while one is held: the protocol ends the session.
            queue.packets = [wire.EIO_CLOSE]
            queue.flush()
            self.engine.close(session)
            refuse(conn, BAD_REQUEST)
            return

        held = HeldGet(conn, eio3.encode_payload if session.eio3 else wire.encode_payload)

        def gone() -> None:
            # The held GET's connection closed: the client is gone (a closed tab).
            if queue.waiting is held:
                queue.waiting = None
                self.engine.close(session)

        conn.on_close = gone
        queue.wait(held)
        if session.upgrading:
            queue.send(wire.EIO_NOOP)  # paused for an upgrade: answer at once

    def post(self, conn: HttpConnection, request: Request, session: Session) -> None:
        if request.too_large:
            MALFORMED.info("malformed input from %s, closing: POST over maxPayload", session.ip)
            self._drop(session)
            refuse(conn, BAD_REQUEST)
            return
        try:
            if session.eio3:
                packets = eio3.decode_payload(request.body, request.headers.get(b"content-type"))
            else:
                packets = wire.decode_payload(request.body)
        except wire.BadPacket as e:
            MALFORMED.info("malformed input from %s, closing: %s", session.ip, e)
            self._drop(session)
            refuse(conn, BAD_REQUEST)
            return
        for packet in packets:
            if session.closed:
                break
            if not self.engine.receive(session, packet):
                self._drop(session)
                refuse(conn, BAD_REQUEST)
                return
        if session.queued >= MAX_QUEUED_EVENTS:
            # Back-pressure: its `ok` waits until its events are handled, and a client
            # sends no POST before the last one is answered.
            self._held_posts[session] = conn
        else:
            conn.respond(200, b"ok")

    def _release(self, session: Session) -> None:
        """The session's events are handled: answer the POST that waited for them."""
        conn = self._held_posts.pop(session, None)
        if conn is not None:
            conn.respond(200, b"ok")

    def _drop(self, session: Session) -> None:
        """End a polling session without a goodbye: its held GET is cut, later requests
        get `Session ID unknown`, and the client reconnects."""
        queue = session.poll
        if queue is not None and isinstance(queue.waiting, HeldGet):
            held, queue.waiting = queue.waiting, None
            held.conn.abort()
        self._held_posts.pop(session, None)
        self.engine.close(session)


class HeldGet:
    """A GET waiting for packets: called with them, it answers on its connection,
    framed by `encode` (the session's protocol version's)."""

    __slots__ = ("conn", "encode")

    def __init__(self, conn: HttpConnection, encode: Callable[[list[bytes]], bytes]) -> None:
        self.conn = conn
        self.encode = encode

    def __call__(self, packets: list[bytes]) -> None:
        self.conn.respond(200, self.encode(packets))
