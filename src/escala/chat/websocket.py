"""The websocket transport: one picows listener per connection.

picows calls `on_ws_frame` synchronously for every frame; only events that reach the
service (which may wait on the history store) become tasks, in `Engine`. A listener
either opens its own session (a client that starts on websocket) or probes an existing
long-polling session and takes it over (the upgrade).
"""

import asyncio
from collections.abc import Callable

from multidict import CIMultiDict, CIMultiDictProxy
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport

from escala.chat import eio3, wire
from escala.chat.engine import Engine, Session
from escala.chat.logs import MALFORMED

TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY
# picows keeps the upgrade's request and response, headers and all, for the socket's life
# and never reads them after the handshake: ~1.1 KiB per idle connection
# (docs/performance.md, idle memory). Read-only, so sharing one is safe.
NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def reading(sock: asyncio.Transport) -> Callable[[bool], None]:
    """A session's back-pressure on a websocket: stop reading its socket, then resume
    (the kernel's buffers fill, and the client's sends wait)."""

    def flow(paused: bool) -> None:
        if sock.is_closing():
            return
        if paused:
            sock.pause_reading()
        else:
            sock.resume_reading()

    return flow


class WebSocketListener(WSListener):
    """One websocket: Engine.IO packets in, through `Engine.receive`."""

    __slots__ = ("engine", "ip", "probing", "query", "session", "ws")

    def __init__(
        self,
        engine: Engine,
        ip: str,
        upgrading: Session | None = None,
        v3_query: dict[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.ip = ip  # the client's address (`http.client_ip`), for a fresh session
        # A fresh Engine.IO v3 session's handshake query (its auth); None for v4.
        self.query = v3_query
        self.session = upgrading  # None until connected, for a fresh session
        self.probing = upgrading is not None  # an upgrade not finished yet
        self.ws: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.ws = transport
        transport.request.headers = transport.response.headers = NO_HEADERS
        if self.session is None:
            sock = transport.underlying_transport
            v3 = self.query is not None
            self.session = Session(sock, transport.disconnect, ip=self.ip, eio3=v3)
            self.session.flow = reading(sock)
            self.engine.open(self.session, upgrades=[], query=self.query)
            self.query = None

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self.session is not None and not self.probing:
            self.engine.close(self.session)
        elif self.session is not None:
            self.session.upgrading = False  # the probe went away; polling carries on

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind == TEXT:
            packet: bytes | bytearray = frame.get_payload_as_bytes()
        elif kind == BINARY:
            packet = bytearray(frame.get_payload_as_memoryview())
            if self.session is not None and self.session.eio3:
                try:
                    packet = eio3.binary_message(packet)
                except wire.BadPacket as e:
                    MALFORMED.info("malformed input from %s, closing: %s", self.ip, e)
                    self._close(transport)
                    return
        else:
            if kind == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code(), frame.get_close_message())
                transport.disconnect()
            return
        session = self.session
        assert session is not None
        if self.probing:
            self._probe(transport, session, packet)
        elif not self.engine.receive(session, packet):
            self._close(transport)

    @staticmethod
    def _close(transport: WSTransport) -> None:
        """Close after a protocol error: a close frame saying so (1002), then the socket."""
        transport.send_close(WSCloseCode.PROTOCOL_ERROR)
        transport.disconnect()

    def _probe(self, transport: WSTransport, session: Session, packet: bytes | bytearray) -> None:
        """The upgrade: `2probe` → `3probe` and the polling side paused; `5` → switch."""
        if packet == wire.PROBE_PING and session.poll is not None:
            session.upgrading = True
            self.engine.rooms.push(transport.underlying_transport, wire.PROBE_PONG)
            session.poll.send(wire.EIO_NOOP)  # ends the held GET: the client pauses polling
        elif packet == wire.EIO_UPGRADE and session.upgrading and not session.closed:
            self.probing = False
            self.engine.switch(session, transport.underlying_transport, transport.disconnect)
            session.flow = reading(transport.underlying_transport)
        else:
            MALFORMED.info(
                "malformed input from %s, closing: broke the upgrade with %r",
                session.ip,
                bytes(packet[:20]),
            )
            self._close(transport)
