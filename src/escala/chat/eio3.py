"""Engine.IO v3 / Socket.IO v4 packets: what socket.io-client 2.x (the seed's era) sends
and expects, where it differs from v4 / v5 (`wire`). Pure, as `wire`.

Served only with `chat serve --allow-eio3`, as Node's `allowEIO3`. What differs
(https://github.com/socketio/engine.io-protocol/tree/v3,
https://github.com/socketio/socket.io-protocol/tree/v4, and engine.io-parser 2.x):

- long-polling payloads are `<length>:<packet>` with the length in UTF-16 code units
  (JavaScript's `string.length`), binary packets as `b4` + base64; a client that can
  send binary posts `application/octet-stream` bodies instead: per packet a 0 (text) or
  1 (binary) byte, the length's decimal digits as bytes 0-9, a 255 byte, the packet;
- a binary packet (websocket frame or payload) starts with its packet type byte;
- the client pings and the server answers, not the other way round;
- Socket.IO connects the default namespace without a CONNECT from the client; its
  handshake query stands in for v5's `auth`; errors are `44"message"`.
"""

import base64
import binascii
from typing import Any

from escala.chat import wire

PROTOCOL = "3"
CONNECTED = wire.EIO_MESSAGE + wire.SIO_CONNECT
# Query keys of Engine.IO itself; the rest of a 2.x client's query is its `auth`.
RESERVED_QUERY = frozenset(("EIO", "transport", "t", "sid", "b64", "j"))
# Auth fields that v5 clients send as numbers and a query can only carry as digits.
NUMERIC_AUTH = frozenset(("serverOffset", "since"))
MAX_LENGTH_DIGITS = 10  # a length past 9,999,999,999 is no payload of ours
BINARY_CONTENT_TYPE = b"application/octet-stream"
_MESSAGE_TYPE = 4  # the type byte a binary message starts with


def handshake_auth(query: dict[str, str]) -> dict[str, Any]:
    """What a 2.x client's `query` option says, as the `auth` a v5 client would send."""
    auth: dict[str, Any] = {}
    for key, value in query.items():
        if key in RESERVED_QUERY:
            continue
        numeric = key in NUMERIC_AUTH and _digits(value) and len(value) <= wire.MAX_ACK_DIGITS
        auth[key] = int(value) if numeric else value
    return auth


def _digits(text: str) -> bool:
    """0-9 only: `str.isdigit` also takes "²" and other digits `int` refuses."""
    return text.isascii() and text.isdigit()


def connect_error(namespace: str, message: str) -> bytes:
    """Socket.IO v4's ERROR packet: the message as a JSON string, not an object."""
    return wire.connect_error_packet(namespace, message)


def binary_message(frame: bytes | bytearray) -> bytearray:
    """A binary message's data, its leading type byte checked and removed."""
    if frame[:1] != bytes((_MESSAGE_TYPE,)):
        raise wire.BadPacket("a binary Engine.IO v3 packet must start with type 4 (message)")
    return bytearray(frame[1:])


def _utf16_length(packet: bytes) -> int:
    """The length JavaScript gives the packet's text: characters past U+FFFF count 2."""
    if packet.isascii():
        return len(packet)
    return len(packet.decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass")) // 2


def encode_payload(packets: list[bytes]) -> bytes:
    """The body of one long-polling GET response: each text packet `<length>:<packet>`."""
    return b"".join(str(_utf16_length(p)).encode() + b":" + p for p in packets)


def decode_payload(body: bytes, content_type: bytes | None) -> list[bytes | bytearray]:
    """The packets of one POST body, text or (by its content type) binary, as
    `wire.decode_payload` returns them; BadPacket for anything malformed."""
    media_type = (content_type or b"").split(b";")[0].strip().lower()
    if media_type == BINARY_CONTENT_TYPE:
        return _decode_binary(body)
    return _decode_text(body)


def _decode_text(body: bytes) -> list[bytes | bytearray]:
    try:
        units = body.decode("utf-8").encode("utf-16-le", "surrogatepass")
    except UnicodeDecodeError as e:
        raise wire.BadPacket(f"payload is not UTF-8: {e.reason}") from None
    packets: list[bytes | bytearray] = []
    at = 0
    while at < len(units):
        colon = units.find(b":\x00", at)
        while colon > 0 and (colon - at) % 2:  # a ':' byte inside a wider character
            colon = units.find(b":\x00", colon + 1)
        digits = units[at:colon].decode("utf-16-le") if colon > at else ""
        if not _digits(digits) or len(digits) > MAX_LENGTH_DIGITS:
            raise wire.BadPacket("a v3 payload is <length>:<packet>, the length in digits")
        start = colon + 2
        end = start + 2 * int(digits)
        if end > len(units):
            raise wire.BadPacket(f"payload ends before its {digits}-character packet")
        try:
            text = units[start:end].decode("utf-16-le", "strict")
        except UnicodeDecodeError:
            raise wire.BadPacket("a packet's length splits a character") from None
        packets.append(_text_packet(text.encode("utf-8", "surrogatepass")))
        at = end
    if not packets:
        raise wire.BadPacket("empty payload")
    return packets


def _text_packet(packet: bytes) -> bytes | bytearray:
    if packet[:2] == b"b4":
        try:
            return bytearray(base64.b64decode(packet[2:], validate=True))
        except binascii.Error as e:
            raise wire.BadPacket(f"binary packet is not base64: {e}") from None
    if packet[:1] in wire.EIO_CLIENT_TYPES:
        return packet
    raise wire.BadPacket(f"not an Engine.IO packet: {packet[:20]!r}")


def _decode_binary(body: bytes) -> list[bytes | bytearray]:
    packets: list[bytes | bytearray] = []
    at = 0
    while at < len(body):
        flag = body[at]
        end_of_length = body.find(b"\xff", at + 1, at + 2 + MAX_LENGTH_DIGITS)
        digits = body[at + 1 : end_of_length] if end_of_length > at + 1 else b""
        if flag not in (0, 1) or not digits or max(digits) > 9:
            raise wire.BadPacket("a binary v3 payload is <0|1><length digits><255><packet>")
        length = int("".join(map(str, digits)))
        start = end_of_length + 1
        packet = body[start : start + length]
        if len(packet) < length or not packet:
            raise wire.BadPacket(f"payload ends before its {length}-byte packet")
        packets.append(_text_packet(packet) if flag == 0 else binary_message(packet))
        at = start + length
    if not packets:
        raise wire.BadPacket("empty payload")
    return packets
