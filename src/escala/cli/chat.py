"""`escala chat serve`: run the Socket.IO chat under uvicorn, or on the fast picows server."""

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from escala.errors import UsageError

if TYPE_CHECKING:
    from escala.chat.core import Limits
    from escala.chat.store import SQLiteStore

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
    redis: str = typer.Option(
        None, envvar="ESCALA_CHAT_REDIS", help="redis://host:port to share broadcasts."
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
        "info", envvar="ESCALA_CHAT_LOG_LEVEL", help="uvicorn log level."
    ),
    server: str = typer.Option(
        "uvicorn",
        envvar="ESCALA_CHAT_SERVER",
        help="uvicorn (python-socketio, long-polling too) or fast (picows, websocket only).",
    ),
) -> None:
    """Serve the chat (page at /, Socket.IO at /socket.io/) until SIGTERM or Ctrl-C."""
    import uvicorn

    from escala.chat.core import Limits
    from escala.chat.logs import uvicorn_log_config
    from escala.chat.server import Settings, create_app
    from escala.chat.store import SQLiteStore

    if not 0 < port < 65536:
        raise UsageError(f"--port: {port} is not a TCP port; use 1-65535")
    if static is not None and not static.is_dir():
        raise UsageError(f"--static: {static} is not a directory; give a folder with index.html")
    if redis is not None and not redis.startswith(("redis://", "rediss://")):
        raise UsageError("--redis: must be a redis:// or rediss:// URL")
    if log_format not in ("text", "json"):
        raise UsageError(f"--log-format: {log_format!r} is not text or json")
    if history < 0 or max_message < 1 or rate <= 0:
        raise UsageError("--history must be >= 0, --max-message >= 1 and --rate > 0")
    if server not in ("uvicorn", "fast"):
        raise UsageError(f"--server: {server!r} is not uvicorn or fast")
    limits = Limits(
        max_message=max_message, rate_per_second=rate, burst=max(1, int(rate * 2)), history=history
    )
    store = SQLiteStore((data_dir or _default_data_dir()) / "chat.sqlite3")
    if server == "fast":
        _serve_fast(store, limits, host, port, static, redis, log_level)
        return
    asgi, _ = create_app(store, Settings(limits=limits, redis_url=redis, static_dir=static))
    uvicorn.run(
        asgi,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=10,
        **({"log_config": cfg} if (cfg := uvicorn_log_config(log_format)) else {}),
    )


def _serve_fast(
    store: "SQLiteStore",
    limits: "Limits",
    host: str,
    port: int,
    static: Path | None,
    redis: str | None,
    level: str,
) -> None:
    """The picows server (escala.chat.fast): same chat, websocket transport only."""
    import logging

    from escala.chat.fast import FastServer, FastSettings, run
    from escala.chat.metrics import Metrics
    from escala.chat.relay import RelayUnavailable

    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(levelname)s %(name)s: %(message)s",
    )
    settings = FastSettings(
        host=host,
        port=port,
        static_dir=static,
        redis_url=redis,
        max_payload=max(1_000_000, limits.max_message * 8),
    )
    try:
        run(FastServer(store, limits, Metrics(), settings))
    except RelayUnavailable as e:
        raise UsageError(f"--redis: {e} (check the URL and that Redis is running)") from e
