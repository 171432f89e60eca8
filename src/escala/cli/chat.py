"""`escala chat serve`: run the Socket.IO chat under uvicorn, or on the fast picows server."""

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer

from escala.errors import EscalaError, UsageError

if TYPE_CHECKING:
    from escala.chat.core import Limits
    from escala.chat.fast import FastSettings
    from escala.chat.store import Store

app = typer.Typer(help="Run the Socket.IO chat service.", no_args_is_help=True)


def _default_data_dir() -> Path:
    return (
        Path(os.environ.get("XDG_DATA_HOME", "")) / "escala"
        if os.environ.get("XDG_DATA_HOME")
        else Path("data")
    )


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", envvar="ESCALA_CHAT_HOST", help="Address to bind."),
    port: int = typer.Option(3000, envvar="ESCALA_CHAT_PORT", help="Port to listen on."),
    data_dir: Path = typer.Option(
        None, envvar="ESCALA_CHAT_DATA_DIR", help="Where the SQLite history lives (./data)."
    ),
    database: str = typer.Option(
        None,
        envvar="ESCALA_CHAT_DATABASE",
        help="postgresql://user:password@host:port/db to share history (default: SQLite).",
    ),
    redis: str = typer.Option(
        None,
        envvar="ESCALA_CHAT_REDIS",
        help="redis://host:port to share broadcasts, rooms and presence across replicas.",
    ),
    presence_ttl: float = typer.Option(
        15.0,
        envvar="ESCALA_CHAT_PRESENCE_TTL",
        help="With --redis: seconds after which a crashed replica's users stop counting.",
    ),
    drain_timeout: float = typer.Option(
        10.0,
        envvar="ESCALA_CHAT_DRAIN_TIMEOUT",
        help="On SIGTERM: seconds to move clients away and flush history before exiting.",
    ),
    static: Path = typer.Option(
        None, envvar="ESCALA_CHAT_STATIC", help="Serve this folder at / instead of escala's page."
    ),
    history: int = typer.Option(
        50, envvar="ESCALA_CHAT_HISTORY", help="Messages replayed on join."
    ),
    max_message: int = typer.Option(
        2000, envvar="ESCALA_CHAT_MAX_MESSAGE", help="Longest message, in characters."
    ),
    rate: float = typer.Option(
        10.0, envvar="ESCALA_CHAT_RATE", help="Messages per second one connection may send."
    ),
    log_format: str = typer.Option(
        "text", envvar="ESCALA_CHAT_LOG_FORMAT", help="text, or json for one object per line."
    ),
    log_level: str = typer.Option(
        "info",
        envvar="ESCALA_CHAT_LOG_LEVEL",
        help="critical, error, warning, info, debug or trace (uvicorn's levels).",
    ),
    ping_interval: float = typer.Option(
        25.0,
        envvar="ESCALA_CHAT_PING_INTERVAL",
        help="Engine.IO heartbeat: ping every N seconds; a client that stops answering is dropped.",
    ),
    server: str = typer.Option(
        "uvicorn",
        envvar="ESCALA_CHAT_SERVER",
        help="uvicorn (python-socketio, long-polling too) or fast (picows, websocket only).",
    ),
) -> None:
    """Serve the chat (page at /, Socket.IO at /socket.io/) until SIGTERM or Ctrl-C."""
    import uvicorn
    from uvicorn.config import LOG_LEVELS

    from escala.chat.cloudwatch import start_publisher
    from escala.chat.core import Limits
    from escala.chat.logs import uvicorn_log_config
    from escala.chat.server import ChatApp, Settings
    from escala.chat.shutdown import DrainingServer
    from escala.chat.store import open_store

    numbers = {
        "--rate": rate,
        "--presence-ttl": presence_ttl,
        "--drain-timeout": drain_timeout,
        "--ping-interval": ping_interval,
    }
    for flag, value in numbers.items():
        if not math.isfinite(value):
            raise UsageError(f"{flag}: give a finite number, not {value}")
    if not 0 < port < 65536:
        raise UsageError(f"--port: {port} is not a TCP port; use 1-65535")
    if static is not None and not static.is_dir():
        raise UsageError(f"--static: {static} is not a directory; give a folder with index.html")
    if database is not None and not database.startswith(("postgresql://", "postgres://")):
        raise UsageError(
            "--database: must be a postgresql:// URL; leave it out for SQLite under --data-dir"
        )
    if redis is not None and not redis.startswith(("redis://", "rediss://")):
        raise UsageError("--redis: must be a redis:// or rediss:// URL")
    _check_url("--database", database, "postgresql://user:password@host:5432/db")
    _check_url("--redis", redis, "redis://:password@host:6379")
    if log_format not in ("text", "json"):
        raise UsageError(f"--log-format: {log_format!r} is not text or json")
    log_level = log_level.lower()  # uvicorn knows "info", not "INFO"
    if log_level not in LOG_LEVELS:
        raise UsageError(f"--log-level: {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    if history < 0 or max_message < 1 or rate <= 0:
        raise UsageError("--history must be >= 0, --max-message >= 1 and --rate > 0")
    if presence_ttl < 1 or drain_timeout < 1:
        raise UsageError("--presence-ttl and --drain-timeout: give at least 1 second")
    if ping_interval < 1:
        raise UsageError("--ping-interval: give at least 1 second")
    if server not in ("uvicorn", "fast"):
        raise UsageError(f"--server: {server!r} is not uvicorn or fast")
    limits = Limits(
        max_message=max_message, rate_per_second=rate, burst=max(1, int(rate * 2)), history=history
    )
    store = open_store(database, data_dir or _default_data_dir())
    if server == "fast":
        from escala.chat.fast import FastSettings
        from escala.chat.wire import ping_timeout

        fast = FastSettings(
            host=host,
            port=port,
            static_dir=static,
            redis_url=redis,
            presence_ttl=presence_ttl,
            drain_timeout=drain_timeout,
            ping_interval_s=ping_interval,
            ping_timeout_s=ping_timeout(ping_interval),
            max_payload=max(1_000_000, limits.max_message * 8),
        )
        _serve_fast(store, limits, fast, log_format, log_level)
        return
    settings = Settings(
        limits=limits,
        redis_url=redis,
        presence_ttl=presence_ttl,
        static_dir=static,
        ping_interval=ping_interval,
    )
    chat = ChatApp(store, settings)
    start_publisher(chat.metrics)  # CloudWatch EMF lines, when the platform asks for them
    config = uvicorn.Config(
        chat,
        host=host,
        port=port,
        log_level=log_level,
        log_config=uvicorn_log_config(log_format),
        # "auto" would take any unexpected startup error for an app without lifespan
        # support and serve anyway, with no history store open.
        lifespan="on",
    )
    DrainingServer(config, chat, drain_timeout).run()


def _check_url(flag: str, url: str | None, example: str) -> None:
    """Refuse a URL whose host or port cannot be parsed, which the store client would only
    find at startup, as a traceback. The message never repeats the URL: it may hold a
    password."""
    if url is None:
        return
    try:
        urlsplit(url).port  # noqa: B018  (reading the port is the check)
    except ValueError as e:
        raise UsageError(f"{flag}: not a valid URL ({e}); write it as {example}") from None


def _serve_fast(
    store: "Store", limits: "Limits", settings: "FastSettings", log_format: str, level: str
) -> None:
    """The picows server (escala.chat.fast): same chat, websocket transport only."""
    from escala.chat.cloudwatch import start_publisher
    from escala.chat.fast import FastServer, run
    from escala.chat.logs import configure_fast
    from escala.chat.metrics import Metrics
    from escala.chat.relay import RelayUnavailable
    from escala.chat.store import StoreError

    configure_fast(log_format, level)
    metrics = Metrics()
    start_publisher(metrics)  # CloudWatch EMF lines, when the platform asks for them
    try:
        run(FastServer(store, limits, metrics, settings))
    except (StoreError, RelayUnavailable) as e:
        raise EscalaError(f"chat server could not start: {e}") from e
