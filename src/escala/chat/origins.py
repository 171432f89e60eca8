"""Which web pages may talk to the chat: the Origin check of every Engine.IO request.

A browser sends `Origin` on every websocket upgrade and on cross-origin requests, and it
sends the page's cookies along; a server that answers any origin lets any site a user
visits chat in that user's name. As Socket.IO's own `cors.origin` / `allowRequest`
(https://socket.io/docs/v4/handling-cors/), a request is allowed when its Origin is the
server's own (the Origin's host and port are the request's `Host`) or one the operator
listed with `--allow-origin`; anything else is refused before a session exists.

A request with no Origin comes from no browser page (python-socketio, `escala load`,
curl): nothing a foreign page could forge, so it passes. Pure: no I/O, unit-tested.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class BadOrigin(ValueError):
    """An `--allow-origin` entry that is not an origin; the message says how to write it."""


def normalize(origin: str) -> str:
    """`scheme://host[:port]`, lower-case, the scheme's default port left out: how a
    browser writes the Origin header. Raises BadOrigin for anything else."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise BadOrigin(f"{origin!r} is not an origin; write it as https://chat.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise BadOrigin(
            f"{origin!r}: an origin is scheme://host[:port] only, with no path or query"
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6, as it appears in Origin and Host
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


@dataclass(frozen=True)
class OriginPolicy:
    """The same origin, plus the origins listed (normalized)."""

    allowed: frozenset[str] = frozenset()

    @classmethod
    def listing(cls, origins: tuple[str, ...]) -> "OriginPolicy":
        return cls(frozenset(normalize(o) for o in origins))

    def allows(self, origin: bytes | None, host: bytes | None) -> bool:
        """May a request with this Origin header (None: none sent) and Host header go on?"""
        if origin is None:
            return True
        text = origin.decode("latin-1")
        try:
            seen = normalize(text)
        except BadOrigin:
            return False  # "null" (a sandboxed frame, a file:// page) or garbage
        return seen in self.allowed or _same_origin(seen, host)


def _same_origin(origin: str, host: bytes | None) -> bool:
    """Is the Origin's host[:port] the Host the request was sent to? The scheme is not
    compared: behind a TLS-terminating balancer the page is https and the request http."""
    if host is None:
        return False
    scheme, netloc = origin.split("://", 1)
    wanted = host.decode("latin-1").strip().lower()
    default = f":{DEFAULT_PORTS[scheme]}"
    return netloc in (wanted, wanted.removesuffix(default))


def refusal(origin: bytes) -> str:
    """The 403's message: which origin, and the flag that would allow it."""
    text = origin.decode("latin-1")[:200]
    return (
        f"Forbidden: origin {text!r} may not use this chat server (only its own origin and "
        f"the ones given to --allow-origin may); start it with --allow-origin {text} "
        "to allow that page"
    )
