"""Optional authentication: a signed token checked when a client connects.

With `--auth-secret-file` (or ESCALA_CHAT_AUTH_SECRET) the Socket.IO CONNECT must carry
`auth: {token}`, a JSON Web Token signed with HMAC-SHA256 (RFC 7519, PyJWT) by whatever
signs users in; the chat never sees a password. The token's `sub` is who the user is,
its `name` (else `sub`) what the room sees, and its `exp` is required and honoured.

Rotation: the secret holds one key, or two separated by whitespace (a newline in the
file): the first is current, the second the previous one, still accepted while tokens
signed with it live. Tokens are minted with the first (`escala chat token`). Pure: no
I/O beyond reading the secret at startup; unit-tested.
"""

import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from escala.chat import rules

ALGORITHM = "HS256"
MIN_KEY_CHARS = 32  # RFC 7518 3.2: an HS256 key of at least 256 bits
MAX_KEYS = 2  # current + previous


class SecretInvalid(ValueError):
    """The configured secret cannot work; the message never repeats it."""


class Refused(ValueError):
    """A CONNECT without a valid token; the message tells the client why."""


@dataclass(frozen=True)
class Identity:
    """Who a token says the client is: `user` (the `sub`) and the `name` shown."""

    user: str
    name: str


def parse_keys(secret: str) -> tuple[bytes, ...]:
    """The keys in a secret (file or variable): current first, then the previous one."""
    keys = tuple(k.encode() for k in secret.split())
    if not keys:
        raise SecretInvalid("it is empty; put a random key of 32+ characters in it")
    if len(keys) > MAX_KEYS:
        raise SecretInvalid(
            f"it holds {len(keys)} keys; give the current key, then at most one previous key"
        )
    for n, key in enumerate(keys, 1):
        if len(key) < MIN_KEY_CHARS:
            raise SecretInvalid(
                f"key {n} is shorter than {MIN_KEY_CHARS} characters; make one with "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
    return keys


@dataclass(frozen=True)
class Verifier:
    """Checks tokens against the current and the previous key."""

    keys: tuple[bytes, ...] = field(repr=False)

    def verify(self, auth: Any) -> Identity:
        """The identity in `auth.token`, or Refused saying what is wrong with it."""
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise Refused("authentication required: connect with auth: {token: '<a JWT>'}")
        claims = None
        for key in self.keys:
            try:
                claims = jwt.decode(
                    token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
                )
                break
            except jwt.InvalidSignatureError:
                continue  # maybe the previous key signed it
            except jwt.ExpiredSignatureError:
                raise Refused("authentication failed: the token has expired") from None
            except jwt.MissingRequiredClaimError as e:
                raise Refused(f"authentication failed: the token has no {e.claim!r}") from None
            except jwt.InvalidTokenError as e:
                raise Refused(f"authentication failed: not a valid token ({e})") from None
        if claims is None:
            raise Refused("authentication failed: the token's signature does not match")
        return _identity(claims)


def _identity(claims: dict[str, Any]) -> Identity:
    user, name = claims.get("sub"), claims.get("name", claims.get("sub"))
    if not isinstance(user, str) or not user.strip():
        raise Refused("authentication failed: the token's 'sub' must be a non-empty string")
    try:
        shown = rules.clean_nickname(name, rules.Limits())
    except rules.Rejected as e:
        raise Refused(f"authentication failed: the token's name: {e}") from None
    return Identity(user=user, name=shown)


def mint(key: bytes, user: str, name: str | None, ttl_s: float, now: float | None = None) -> str:
    """A token for `user` (shown as `name`, else `user`) valid for `ttl_s` seconds."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"sub": user, "iat": issued, "exp": issued + int(ttl_s)}
    if name is not None:
        claims["name"] = name
    return jwt.encode(claims, key, algorithm=ALGORITHM)
