"""Engine.IO v4 / Socket.IO v5 packets as the server sees them, without I/O.

The chat server (`escala.chat.server`) speaks the wire format itself instead of going
through python-socketio, whose per-recipient packet and queue work is where its time goes.
Here: the Engine.IO packets (open, close, ping, pong, message, upgrade, noop), the HTTP
long-polling payload (packets joined by the record separator, binary ones as `b` +
base64), and the Socket.IO packets a client sends on the default namespace, binary
events and acks included. Every function is pure so the codec is tested without a
server. The protocol: https://github.com/socketio/engine.io-protocol (v4) and
https://github.com/socketio/socket.io-protocol (v5).
"""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import orjson

# Engine.IO packet types: the first character of a websocket text frame or polling packet.
EIO_OPEN = b"0"
EIO_CLOSE = b"1"
EIO_PING = b"2"
EIO_PONG = b"3"
EIO_MESSAGE = b"4"
EIO_UPGRADE = b"5"
EIO_NOOP = b"6"
# Socket.IO packet types: the second character, after EIO_MESSAGE.
SIO_CONNECT = b"0"
SIO_DISCONNECT = b"1"
SIO_EVENT = b"2"
SIO_ACK = b"3"
SIO_CONNECT_ERROR = b"4"
SIO_BINARY_EVENT = b"5"
SIO_BINARY_ACK = b"6"

# What a client may send: every Engine.IO packet type but `open`.
EIO_CLIENT_TYPES = (EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE, EIO_UPGRADE, EIO_NOOP)
PING = EIO_PING
PROBE_PING = b"2probe"
PROBE_PONG = b"3probe"
# HTTP long-polling: packets of one request or response are joined by this byte.
RECORD_SEPARATOR = b"\x1e"
BINARY_PREFIX = b"b"


def ping_timeout(interval: float) -> float:
    """Engine.IO's default pingTimeout (20 s), shortened when pings come more often."""
    return min(20.0, interval)


@dataclass(frozen=True)
class Packet:
    """One Socket.IO packet from a client: its type, namespace, ack id and arguments.

    `kind` is one of the SIO_* bytes; `data` is the CONNECT auth object or the EVENT's
    arguments (name first). A binary event or ack says in `attachments` how many binary
    Engine.IO packets follow; `with_attachments` puts them in place of the placeholders.
    """

    kind: bytes
    namespace: str = "/"
    ack: int | None = None
    data: Any = None
    attachments: int = 0


class BadPacket(ValueError):
    """A frame that is not an Engine.IO/Socket.IO packet this server understands."""


def open_packet(
    sid: str,
    upgrades: list[str],
    ping_interval_ms: int,
    ping_timeout_ms: int,
    max_payload: int | None,
) -> bytes:
    """The Engine.IO handshake: `upgrades` is ["websocket"] for a polling client, [] for a
    client already on websocket; `max_payload` None for v3, which has no such field."""
    body: dict[str, Any] = {
        "sid": sid,
        "upgrades": upgrades,
        "pingInterval": ping_interval_ms,
        "pingTimeout": ping_timeout_ms,
    }
    if max_payload is not None:
        body["maxPayload"] = max_payload
    return EIO_OPEN + orjson.dumps(body)


def connect_reply(sid: str) -> bytes:
    """CONNECT on the default namespace, accepted, with the Socket.IO session id."""
    return EIO_MESSAGE + SIO_CONNECT + orjson.dumps({"sid": sid})


def connect_error(namespace: str, message: str) -> bytes:
    """CONNECT_ERROR: what a client gets for a namespace this server does not have."""
    return connect_error_packet(namespace, {"message": message})


def connect_error_packet(namespace: str, data: Any) -> bytes:
    """CONNECT_ERROR on `namespace` carrying `data` as JSON: Socket.IO v5 sends an
    object, v4 (`eio3`) the message alone, as a string."""
    prefix = b"" if namespace == "/" else namespace.encode() + b","
    return EIO_MESSAGE + SIO_CONNECT_ERROR + prefix + orjson.dumps(data)


def event(name: str, data: Any) -> bytes:
    """An EVENT packet; `data` is one argument, or a tuple for several.

    This is the broadcast path: the packet is encoded once and the same bytes are written
    to every recipient.
    """
    args = [name, *data] if isinstance(data, tuple) else [name, data]
    return EIO_MESSAGE + SIO_EVENT + orjson.dumps(args)


def event_prefix(name: str) -> bytes:
    """The bytes every `event(name, ...)` packet starts with, its name's closing quote
    included: a packet relayed from another replica arrives encoded, and this tells its
    event without decoding it."""
    return EIO_MESSAGE + SIO_EVENT + orjson.dumps([name])[:-1]


def ack(ack_id: int, result: Any) -> bytes:
    """The ACK for a client's event: None → no arguments, a tuple → several, else one."""
    if result is None:
        args: list[Any] = []
    elif isinstance(result, tuple):
        args = list(result)
    else:
        args = [result]
    return EIO_MESSAGE + SIO_ACK + str(ack_id).encode() + orjson.dumps(args)


MAX_ACK_DIGITS = 16
"""An ack id is a counter (JavaScript's safe integers have 16 digits); more is abuse, and
Python refuses to read an integer of over 4300 digits at all."""
MAX_ATTACHMENT_DIGITS = 3

_CLIENT_KINDS = (SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_BINARY_EVENT, SIO_BINARY_ACK)


def parse(payload: bytes) -> Packet:
    """A Socket.IO packet out of an Engine.IO MESSAGE's payload (after the `4`).

    Raises BadPacket for anything malformed or of a type clients do not send.
    """
    if not payload:
        raise BadPacket("empty Socket.IO packet")
    kind, rest = payload[:1], payload[1:]
    if kind not in _CLIENT_KINDS:
        raise BadPacket(f"unsupported Socket.IO packet type {kind!r}")
    attachments = 0
    if kind in (SIO_BINARY_EVENT, SIO_BINARY_ACK):
        dash = rest.find(b"-")
        if not 0 < dash <= MAX_ATTACHMENT_DIGITS or not rest[:dash].isdigit():
            raise BadPacket("a binary packet must start with its attachment count and '-'")
        attachments, rest = int(rest[:dash]), rest[dash + 1 :]
    namespace = "/"
    if rest[:1] == b"/":
        comma = rest.find(b",")
        end = comma if comma >= 0 else len(rest)
        namespace = rest[:end].decode("utf-8", "replace")
        rest = rest[end + 1 :]
    digits = 0
    while digits < len(rest) and 48 <= rest[digits] <= 57:
        digits += 1
    if digits > MAX_ACK_DIGITS:
        raise BadPacket(f"ack id longer than {MAX_ACK_DIGITS} digits")
    ack_id = int(rest[:digits]) if digits else None
    body = rest[digits:]
    try:
        data = orjson.loads(body) if body else None  # nesting: at most 1024 deep
    except orjson.JSONDecodeError as e:
        data = _lenient_json(body, e)
    is_event = kind in (SIO_EVENT, SIO_BINARY_EVENT)
    if is_event and not (isinstance(data, list) and data and isinstance(data[0], str)):
        raise BadPacket("EVENT must be a JSON array starting with the event name")
    return Packet(kind, namespace, ack_id, data, attachments)


def with_attachments(packet: Packet, blobs: list[bytes]) -> Packet:
    """The binary event or ack with each `{"_placeholder": true, "num": n}` replaced by
    the n-th binary attachment; raises BadPacket for a placeholder that points nowhere."""

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            if value.get("_placeholder") is True:
                num = value.get("num")
                if not isinstance(num, int) or not 0 <= num < len(blobs):
                    raise BadPacket(f"binary placeholder {num!r} has no attachment")
                return blobs[num]
            return {k: fill(v) for k, v in value.items()}
        return value

    kind = SIO_EVENT if packet.kind == SIO_BINARY_EVENT else SIO_ACK
    try:
        return Packet(kind, packet.namespace, packet.ack, fill(packet.data))
    except RecursionError:
        raise BadPacket("binary packet nested too deep") from None


def _lenient_json(body: bytes, refused: orjson.JSONDecodeError) -> Any:
    """JSON that orjson refuses but is still JSON: escaped lone surrogates (`"\\ud800"`).

    The chat's rules reject such text with a clear error for its sender, so the packet
    must reach them rather than close the connection. Anything else (too deep, a number
    too large, not JSON) is a BadPacket.
    """
    if b"\\ud" not in body.lower():
        raise BadPacket(f"Socket.IO packet is not JSON: {refused}")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        raise BadPacket(f"Socket.IO packet is not JSON: {e}") from None


def decode_payload(body: bytes) -> list[bytes | bytearray]:
    """The Engine.IO packets of one HTTP long-polling POST body.

    Text packets come back as `bytes`; binary ones (`b` + base64 on the wire) decoded, as
    `bytearray` so the two stay apart. Raises BadPacket for an empty packet, an unknown
    packet type or bad base64.
    """
    packets: list[bytes | bytearray] = []
    for part in body.split(RECORD_SEPARATOR):
        if part[:1] == BINARY_PREFIX:
            try:
                packets.append(bytearray(base64.b64decode(part[1:], validate=True)))
            except binascii.Error as e:
                raise BadPacket(f"binary packet is not base64: {e}") from e
        elif part[:1] in EIO_CLIENT_TYPES:
            packets.append(part)
        else:
            raise BadPacket(f"not an Engine.IO packet: {part[:20]!r}")
    return packets


def encode_payload(packets: list[bytes]) -> bytes:
    """The body of one long-polling GET response: the packets, record-separated."""
    return packets[0] if len(packets) == 1 else RECORD_SEPARATOR.join(packets)


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
