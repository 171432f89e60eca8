"""Engine.IO v4 / Socket.IO v5 packets as the server sees them, without I/O.

The fast server (`escala.chat.fast`) speaks the wire format itself instead of going
through python-socketio, whose per-recipient packet and queue work is where its time goes.
Only what a websocket-only chat needs is here: the Engine.IO open, ping, pong and message
packets; Socket.IO CONNECT, DISCONNECT, EVENT and ACK on the default namespace. No binary
packets, no long-polling framing. Every function is pure so the codec is tested without a
server.
"""

import json
from dataclasses import dataclass
from typing import Any

import orjson

# Engine.IO packet types: the first character of a websocket text frame.
EIO_OPEN = b"0"
EIO_CLOSE = b"1"
EIO_PING = b"2"
EIO_PONG = b"3"
EIO_MESSAGE = b"4"
# Socket.IO packet types: the second character, after EIO_MESSAGE.
SIO_CONNECT = b"0"
SIO_DISCONNECT = b"1"
SIO_EVENT = b"2"
SIO_ACK = b"3"
SIO_CONNECT_ERROR = b"4"

PING = EIO_PING


def ping_timeout(interval: float) -> float:
    """Engine.IO's default pingTimeout (20 s), shortened when pings come more often.

    Both servers use it, so `--ping-interval` means the same on either.
    """
    return min(20.0, interval)


@dataclass(frozen=True)
class Packet:
    """One Socket.IO packet from a client: its type, namespace, ack id and arguments.

    `kind` is one of the SIO_* bytes; `data` is the CONNECT auth object or the EVENT's
    arguments (name first).
    """

    kind: bytes
    namespace: str = "/"
    ack: int | None = None
    data: Any = None


class BadPacket(ValueError):
    """A frame that is not an Engine.IO/Socket.IO packet this server understands."""


def open_packet(sid: str, ping_interval_ms: int, ping_timeout_ms: int, max_payload: int) -> bytes:
    """The Engine.IO handshake a websocket client gets first (no upgrades: already there)."""
    body = {
        "sid": sid,
        "upgrades": [],
        "pingInterval": ping_interval_ms,
        "pingTimeout": ping_timeout_ms,
        "maxPayload": max_payload,
    }
    return EIO_OPEN + orjson.dumps(body)


def connect_reply(sid: str) -> bytes:
    """CONNECT on the default namespace, accepted, with the Socket.IO session id."""
    return EIO_MESSAGE + SIO_CONNECT + orjson.dumps({"sid": sid})


def connect_error(namespace: str, message: str) -> bytes:
    """CONNECT_ERROR: what a client gets for a namespace this server does not have."""
    prefix = b"" if namespace == "/" else namespace.encode() + b","
    return EIO_MESSAGE + SIO_CONNECT_ERROR + prefix + orjson.dumps({"message": message})


def event(name: str, data: Any) -> bytes:
    """An EVENT frame; `data` is one argument, or a tuple for several.

    This is the broadcast path: the frame is encoded once and the same bytes are written
    to every recipient.
    """
    args = [name, *data] if isinstance(data, tuple) else [name, data]
    return EIO_MESSAGE + SIO_EVENT + orjson.dumps(args)


def ack(ack_id: int, result: Any) -> bytes:
    """The ACK for a client's event, python-socketio's way: None → no arguments, a tuple →
    several, anything else → one."""
    if result is None:
        args: list[Any] = []
    elif isinstance(result, tuple):
        args = list(result)
    else:
        args = [result]
    return EIO_MESSAGE + SIO_ACK + str(ack_id).encode() + orjson.dumps(args)


def parse(payload: bytes) -> Packet:
    """A Socket.IO packet out of an Engine.IO MESSAGE frame's payload (after the `4`).

    Raises BadPacket for anything malformed, binary or of a type clients do not send.
    """
    if not payload:
        raise BadPacket("empty Socket.IO packet")
    kind, rest = payload[:1], payload[1:]
    if kind not in (SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK):
        raise BadPacket(f"unsupported Socket.IO packet type {kind!r}")
    namespace = "/"
    if rest[:1] == b"/":
        comma = rest.find(b",")
        end = comma if comma >= 0 else len(rest)
        namespace = rest[:end].decode("utf-8", "replace")
        rest = rest[end + 1 :]
    digits = 0
    while digits < len(rest) and 48 <= rest[digits] <= 57:
        digits += 1
    ack_id = int(rest[:digits]) if digits else None
    body = rest[digits:]
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        data = _lenient_json(body)
    if kind == SIO_EVENT and not (isinstance(data, list) and data and isinstance(data[0], str)):
        raise BadPacket("EVENT must be a JSON array starting with the event name")
    return Packet(kind, namespace, ack_id, data)


def _lenient_json(body: bytes) -> Any:
    """JSON that orjson refuses but is still JSON: escaped lone surrogates (`"\\ud800"`).

    The chat's rules reject such text with a clear error for its sender, so the packet
    must reach them rather than close the connection. Anything else is a BadPacket.
    """
    try:
        return json.loads(body)
    except ValueError as e:
        raise BadPacket(f"Socket.IO packet is not JSON: {e}") from e


def text_frame(payload: bytes) -> bytes:
    """`payload` as one unmasked websocket text frame (RFC 6455 §5.2), as a server sends it.

    Framed once per broadcast, the same bytes go to every recipient's socket.
    """
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload
