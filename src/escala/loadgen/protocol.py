"""Engine.IO v4 / Socket.IO v5 framing for the chat protocol, without I/O.

The load generator speaks the wire format itself, over a plain websocket (picows) or HTTP
long-polling (aiohttp), instead of using python-socketio's client: a full client costs
more CPU per message than the server it is measuring, and the generator must never be the
bottleneck. Only what the chat needs is here: the Engine.IO open/ping/pong packets, the
long-polling payload, and Socket.IO CONNECT, EVENT and ACK packets on the default
namespace.
"""

import json
import time
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

# Engine.IO packet types (first character of a websocket text frame).
EIO_OPEN = "0"
EIO_PING = "2"
EIO_PONG = "3"
EIO_MESSAGE = "4"
# Socket.IO packet types (second character, after EIO_MESSAGE).
SIO_CONNECT = "0"
SIO_EVENT = "2"
SIO_ACK = "3"
SIO_CONNECT_ERROR = "4"

CONNECT_PACKET = EIO_MESSAGE + SIO_CONNECT
PONG_PACKET = EIO_PONG
CONNECT_ERROR_PACKET = EIO_MESSAGE + SIO_CONNECT_ERROR

# Prefix of every chat message the generator sends; the rest is the send time in
# nanoseconds since the epoch, so any client on this host can compute delivery latency.
STAMP_PREFIX = "escala-load "


# HTTP long-polling: the packets of one request or response are joined by this character.
RECORD_SEPARATOR = "\x1e"


def connect_packet(token: str | None) -> str:
    """The Socket.IO CONNECT to the default namespace, with `auth: {token}` when the
    chat wants one (`chat serve --auth-secret-file`)."""
    return CONNECT_PACKET if token is None else CONNECT_PACKET + json.dumps({"token": token})


def engine_url(http_url: str, transport: str) -> str:
    """The Engine.IO endpoint for a chat served at `http_url`: `websocket` or `polling`."""
    parts = urlsplit(http_url)
    scheme = (
        ("wss" if parts.scheme == "https" else "ws") if transport == "websocket" else parts.scheme
    )
    query = {"EIO": "4", "transport": transport}
    return urlunsplit((scheme, parts.netloc, "/socket.io/", urlencode(query), ""))


def event(name: str, *args: Any, ack: int | None = None) -> str:
    """A Socket.IO EVENT packet on the default namespace; `ack` asks the server to answer."""
    ack_id = "" if ack is None else str(ack)
    return EIO_MESSAGE + SIO_EVENT + ack_id + json.dumps([name, *args], separators=(",", ":"))


def ack_reply(packet: str, ack: int) -> Any:
    """The server's answer to our event number `ack`, or None if `packet` is not that answer."""
    prefix = f"{EIO_MESSAGE}{SIO_ACK}{ack}["
    if not packet.startswith(prefix):
        return None
    args = json.loads(packet[len(prefix) - 1 :])
    return args[0] if args else {}


def stamped_message(ack: int, now_ns: int | None = None) -> str:
    """A `new message` packet carrying its own send time, asking for ack number `ack`."""
    stamp = time.time_ns() if now_ns is None else now_ns
    return event("new message", f"{STAMP_PREFIX}{stamp}", ack=ack)


_ACK = EIO_MESSAGE + SIO_ACK


def any_ack(packet: str) -> tuple[int, Any] | None:
    """(ack id, the server's answer) for any ACK packet, else None."""
    if not packet.startswith(_ACK):
        return None
    end = len(_ACK)
    while end < len(packet) and packet[end].isdigit():
        end += 1
    if end == len(_ACK):
        return None
    args = json.loads(packet[end:])
    return int(packet[len(_ACK) : end]), (args[0] if args else {})


def refusal(reply: Any) -> str | None:
    """What the server refused, from its ack (`{"error": "rate limit: ..."}`), or None
    when the message was accepted."""
    if isinstance(reply, dict) and "error" in reply:
        return str(reply["error"])[:120]
    return None


_NEW_MESSAGE = EIO_MESSAGE + SIO_EVENT + '["new message"'


def message_stamp(packet: str) -> int | None:
    """The send time (ns) inside a delivered `new message` packet, or None if not ours.

    The official chat example broadcasts `["new message", {"username", "message"}]`. This
    runs once per delivered message, so it looks for the stamp with string searches
    instead of decoding the JSON.
    """
    if not packet.startswith(_NEW_MESSAGE):
        return None
    at = packet.find(STAMP_PREFIX)
    if at < 0:
        return None
    start = at + len(STAMP_PREFIX)
    end = start
    while end < len(packet) and packet[end].isdigit():
        end += 1
    return int(packet[start:end]) if end > start else None
