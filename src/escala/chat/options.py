"""Everything `escala chat serve` can be told, checked in one place before anything starts.

As kops's `Options` / `RunX`: the CLI fills a `ServeOptions` from its flags (and the
ESCALA_CHAT_* variables), `check()` refuses what makes no sense naming the flag, and the
server is built from the checked options alone. The chat's own limits and the Engine.IO
handshake's figures are derived here, so no two places compute them.
"""

import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from escala.chat.auth import SecretInvalid, parse_keys
from escala.chat.engine import EngineLimits
from escala.chat.origins import BadOrigin, normalize
from escala.chat.rules import Limits, burst_of
from escala.chat.store import Retention
from escala.chat.wire import ping_timeout
from escala.errors import UsageError

LOG_FORMATS = ("text", "json")
# The secret itself comes only from the environment: a flag would show it in `ps`.
AUTH_SECRET_ENV = "ESCALA_CHAT_AUTH_SECRET"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/escala when set, else ./data."""
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg) / "escala" if xdg else Path("data")


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    data_dir: Path | None = None
    database: str | None = None
    redis: str | None = None
    presence_ttl: float = 15.0
    drain_timeout: float = 10.0
    static: Path | None = None
    history: int = 50
    max_message: int = 2000
    rate: float = 10.0
    log_format: str = "text"
    log_level: str = "info"
    ping_interval: float = 25.0
    # Origins whose pages may connect, besides the server's own (`origins.OriginPolicy`).
    allow_origin: tuple[str, ...] = ()
    # Authentication (`auth`): the keys from this file, or from the variable itself.
    auth_secret_file: Path | None = None
    auth_secret: str | None = field(default=None, repr=False)
    # Issue 17's limits (added here, after the fields above, to keep merges small).
    replay_limit: int = 100
    event_rate: float | None = None  # None: 3 x rate, at least 30
    ip_rate: float | None = None  # None: 10 x the event rate, at least 500
    retain_days: float = 30.0
    retain_messages: int = 100_000
    request_timeout: float = 10.0
    proxy_hops: int = 0
    allow_anonymous: bool = False  # the tutorial's page: `chat message` with no login
    allow_eio3: bool = False  # also serve socket.io-client 2.x (Engine.IO v3), as allowEIO3

    def check(self) -> None:
        """Raise UsageError naming the first flag whose value cannot work."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise UsageError(f"{_flag(f.name)}: give a finite number, not {value}")
        if not 0 < self.port < 65536:
            raise UsageError(f"--port: {self.port} is not a TCP port; use 1-65535")
        if self.static is not None and not self.static.is_dir():
            raise UsageError(
                f"--static: {self.static} is not a directory; give a folder with index.html"
            )
        _check_url(
            "--database",
            self.database,
            ("postgresql", "postgres"),
            "postgresql://user:password@host:5432/db; leave it out for SQLite under --data-dir",
        )
        _check_url("--redis", self.redis, ("redis", "rediss"), "redis://:password@host:6379")
        if self.log_format not in LOG_FORMATS:
            raise UsageError(f"--log-format: {self.log_format!r} is not text or json")
        if self.log_level.lower() not in LOG_LEVELS:
            raise UsageError(
                f"--log-level: {self.log_level!r} is not one of {', '.join(LOG_LEVELS)}"
            )
        if self.history < 0 or self.max_message < 1 or self.rate <= 0:
            raise UsageError("--history must be >= 0, --max-message >= 1 and --rate > 0")
        if self.presence_ttl < 1 or self.drain_timeout < 1:
            raise UsageError("--presence-ttl and --drain-timeout: give at least 1 second")
        if self.ping_interval < 1:
            raise UsageError("--ping-interval: give at least 1 second")
        if self.replay_limit < 1:
            raise UsageError("--replay-limit: give at least 1 message")
        for flag, rate in (("--event-rate", self.event_rate), ("--ip-rate", self.ip_rate)):
            if rate is not None and not (math.isfinite(rate) and rate > 0):
                raise UsageError(f"{flag}: give a number of events per second > 0")
        if self.retain_days < 0 or self.retain_messages < 0:
            raise UsageError("--retain-days and --retain-messages: give 0 (keep all) or more")
        if self.request_timeout <= 0:
            raise UsageError("--request-timeout: give a number of seconds > 0")
        if self.proxy_hops < 0:
            raise UsageError("--proxy-hops: give 0 (clients connect directly) or more")
        for origin in self.allow_origin:
            try:
                normalize(origin)
            except BadOrigin as e:
                raise UsageError(f"--allow-origin: {e}") from None
        self.auth_keys()

    def auth_keys(self) -> tuple[bytes, ...] | None:
        """The token keys (current, then previous), or None when authentication is off.
        A UsageError names where the secret came from, never what it holds."""
        if self.auth_secret_file is not None and self.auth_secret is not None:
            raise UsageError(
                f"--auth-secret-file and {AUTH_SECRET_ENV}: give one of them, not both"
            )
        where, secret = AUTH_SECRET_ENV, self.auth_secret
        if self.auth_secret_file is not None:
            where = f"--auth-secret-file {self.auth_secret_file}"
            try:
                secret = self.auth_secret_file.read_text()
            except (OSError, UnicodeDecodeError) as e:
                why = e.strerror if isinstance(e, OSError) else "not text"
                raise UsageError(f"{where}: cannot be read ({why})") from None
        if secret is None:
            return None
        try:
            return parse_keys(secret)
        except SecretInvalid as e:
            raise UsageError(f"{where}: {e}") from None

    def limits(self) -> Limits:
        """What one client may send."""
        return Limits(
            max_message=self.max_message,
            rate_per_second=self.rate,
            burst=burst_of(self.rate),
            history=self.history,
            replay=self.replay_limit,
            anonymous=self.allow_anonymous,
        )

    def engine_limits(self) -> EngineLimits:
        """The handshake's heartbeat and maxPayload (room for a message's JSON escapes)."""
        return EngineLimits(
            ping_interval_s=self.ping_interval,
            ping_timeout_s=ping_timeout(self.ping_interval),
            max_payload=max(1_000_000, self.max_message * 8),
            event_rate=self.events_per_second(),
            ip_rate=self.ip_rate or max(500.0, 10 * self.events_per_second()),
        )

    def events_per_second(self) -> float:
        """Events of any kind one connection may send: typing, joins, messages..."""
        return self.event_rate or max(30.0, 3 * self.rate)

    def retention(self) -> Retention:
        """What history is kept; the server prunes the rest every minute."""
        return Retention(self.retain_days * 86_400, self.retain_messages)

    def history_dir(self) -> Path:
        return self.data_dir or default_data_dir()


def origin_list(value: str | None) -> tuple[str, ...]:
    """`--allow-origin a,b` (or spaces between): the origins, in order."""
    return tuple(o for o in (value or "").replace(",", " ").split() if o)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_url(flag: str, url: str | None, schemes: tuple[str, ...], example: str) -> None:
    """Refuse a URL of another scheme, or whose host or port cannot be parsed (which the
    client would only find at startup, as a traceback). The message never repeats the
    URL: it may hold a password."""
    if url is None:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading the port is the check)
    except ValueError as e:
        raise UsageError(f"{flag}: not a valid URL ({e}); write it as {example}") from None
    if parts.scheme not in schemes:
        raise UsageError(f"{flag}: must be a {' or '.join(s + '://' for s in schemes)} URL")
