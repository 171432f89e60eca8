"""The chat's own rules, independent of any transport.

Validation, per-connection rate limits, presence and message shaping live here as plain
Python so they are unit-tested without a server, and a faster transport can replace the
Socket.IO shell without rewriting the chat.
"""

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ROOM = "lobby"
MAX_ID = 2**63 - 1
"""Message ids are 64-bit in both stores; a client-sent id beyond is not one."""


@dataclass(frozen=True)
class Limits:
    """What a client may send; every limit is a serve flag."""

    max_message: int = 2000
    max_nickname: int = 32
    max_room: int = 64
    max_client_offset: int = 128
    rate_per_second: float = 10.0
    burst: int = 20
    history: int = 50
    replay: int = 100
    """The most messages one replay or `history` request sends (a page)."""
    anonymous: bool = False
    """Whether the tutorial's `chat message` is taken without a login (its page has none)."""


class Rejected(ValueError):
    """A client's input broke a rule; the message is sent back to that client only."""


def _storable(value: str, field: str) -> None:
    """Refuse text a history store cannot keep (PostgreSQL has no NUL; UTF-8 no lone
    surrogates, which JSON escapes can still carry), so it fails for its sender only."""
    if "\x00" in value:
        raise Rejected(f"{field}: must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected(f"{field}: must be valid Unicode (no lone surrogates)") from None


def _clean_name(value: Any, field: str, longest: int) -> str:
    """A nickname or room name: text, not blank, storable, at most `longest` once stripped."""
    if not isinstance(value, str) or not value.strip():
        raise Rejected(f"{field}: must be a non-empty string")
    _storable(value, field)
    name = value.strip()
    if len(name) > longest:
        raise Rejected(f"{field}: at most {longest} characters")
    return name


def clean_nickname(value: Any, limits: Limits) -> str:
    return _clean_name(value, "username", limits.max_nickname)


def clean_text(value: Any, limits: Limits) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Rejected("message: must be a non-empty string")
    if len(value) > limits.max_message:
        raise Rejected(f"message: at most {limits.max_message} characters")
    _storable(value, "message")
    return value


def clean_room(value: Any, limits: Limits) -> str:
    return _clean_name(value, "room", limits.max_room)


def clean_client_offset(value: Any, limits: Limits) -> str | None:
    """The tutorial's clientOffset (its retry key, stored and indexed with the message):
    None when the client sent no string (as before: the message is then not
    deduplicated), else at most `max_client_offset` characters, so a client cannot fill
    the disk through it."""
    if not isinstance(value, str):
        return None
    if len(value) > limits.max_client_offset:
        raise Rejected(f"clientOffset: at most {limits.max_client_offset} characters")
    _storable(value, "clientOffset")
    return value


@dataclass(slots=True)
class TokenBucket:
    """Per-connection flood control: `burst` messages at once, `rate` per second after."""

    rate: float
    burst: int
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self.tokens < 0:
            self.tokens = float(self.burst)
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def burst_of(rate: float) -> int:
    """The burst every flood limit allows at `rate`: two seconds' worth, at least one."""
    return max(1, int(rate * 2))


@dataclass(slots=True)
class Session:
    """One connection's chat state."""

    sid: str
    limits: Limits
    username: str | None = None
    room: str = DEFAULT_ROOM
    # The last message id the client saw before it reconnected (handshake `auth.since`):
    # the first room it enters replays exactly what came after, not the last N.
    resume_after: int | None = None
    # Set from a verified token (`auth`): who the user is, and the name it chats under.
    user: str | None = None
    verified_name: str | None = None
    # Who owns this connection's nickname: the token's user, else the page's own key
    # (`auth.key`, kept across its reconnects), else only this connection.
    owner: str = ""
    typing: bool = False  # what the room was last told: `typing` or `stop typing`
    bucket: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(self.limits.rate_per_second, self.limits.burst)
        self.owner = self.owner or f"sid:{self.sid}"


MAX_KEY = 128


def owner_of(sid: str, user: str | None, key: Any) -> str:
    """Who a connection's nickname belongs to. A token's user owns theirs in every tab;
    a page that sends the same random `auth.key` on each reconnect gets its name back
    while its old connection still lingers (a dropped transport is noticed only at the
    next missed ping); anyone else owns a name for one connection only. The key is kept
    hashed: presence (Redis) holds no value a client could replay."""
    if user is not None:
        return "user:" + user
    if isinstance(key, str) and 16 <= len(key) <= MAX_KEY:
        return "key:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    return f"sid:{sid}"


def message_id(value: Any) -> int | None:
    """A client-sent message id (an offset to resume after), or None if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_ID:
        return value
    return None


def folded(name: str) -> str:
    """A nickname as it clashes with others: regardless of case ("Bob" would pass for
    "bob" in a room)."""
    return name.casefold()


class Presence:
    """Who is logged in, per room, on this replica (`presence` makes it cluster-wide).

    Each connection is listed with its name and its owner: who it is (a token's user, a
    page's own key, else the connection itself), so a name is taken unless its owner is
    the one asking (`taken`). Names are indexed by their folded form, so a login costs the
    same in a room of five as in a room of five thousand."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, tuple[str, str]]] = {}
        # room -> folded name -> owner -> how many of its connections go by that name
        self._names: dict[str, dict[str, Counter[str]]] = {}

    def join(self, room: str, sid: str, username: str, owner: str | None = None) -> int:
        self.leave(room, sid)  # a connection that logs in again changes its name
        owner = owner or f"sid:{sid}"
        self._rooms.setdefault(room, {})[sid] = (username, owner)
        self._names.setdefault(room, {}).setdefault(folded(username), Counter())[owner] += 1
        return len(self._rooms[room])

    def taken(self, room: str, username: str, owner: str) -> bool:
        """Does someone other than `owner` go by `username` in `room`?"""
        return any(who != owner for who in self.owners(room, username))

    def owners(self, room: str, username: str) -> list[str]:
        """Who holds `username` (any case) in `room`, sorted."""
        return sorted(self._names.get(room, {}).get(folded(username), ()))

    def entry(self, room: str, sid: str) -> tuple[str, str] | None:
        """The (name, owner) `sid` is listed under in `room`."""
        return self._rooms.get(room, {}).get(sid)

    def leave(self, room: str, sid: str) -> int:
        members = self._rooms.get(room, {})
        entry = members.pop(sid, None)
        if entry is not None:
            names = self._names[room]
            name = folded(entry[0])
            names[name][entry[1]] -= 1
            if names[name][entry[1]] <= 0:
                del names[name][entry[1]]
            if not names[name]:
                del names[name]
        if not members:
            self._rooms.pop(room, None)
            self._names.pop(room, None)
        return len(members)

    def users(self, room: str) -> list[str]:
        return sorted(name for name, _ in self._rooms.get(room, {}).values())

    def count(self, room: str) -> int:
        return len(self._rooms.get(room, {}))


def message_payload(record: dict[str, Any]) -> dict[str, Any]:
    """The demo's `new message` shape, with escala's id, room and timestamp riding along."""
    return {
        "username": record["username"],
        "message": record["text"],
        "id": record["id"],
        "room": record["room"],
        "ts": record["ts"],
    }
