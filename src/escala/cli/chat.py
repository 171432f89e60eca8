"""`escala chat serve`: flags into `ServeOptions`, checked once, then the server runs;
`escala chat token`: a signed token for a user, made with the same secret."""

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from escala.errors import EscalaError

if TYPE_CHECKING:
    from escala.chat.options import ServeOptions

app = typer.Typer(help="Run the Socket.IO chat service.", no_args_is_help=True)


def _env(name: str) -> str:
    return f"ESCALA_CHAT_{name}"


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", envvar=_env("HOST"), help="Address to bind."),
    port: int = typer.Option(3000, envvar=_env("PORT"), help="Port to listen on."),
    data_dir: Path = typer.Option(
        None, envvar=_env("DATA_DIR"), help="Where the SQLite history lives (./data)."
    ),
    database: str = typer.Option(
        None,
        envvar=_env("DATABASE"),
        help="postgresql://user:password@host:port/db to share history (default: SQLite).",
    ),
    redis: str = typer.Option(
        None,
        envvar=_env("REDIS"),
        help="redis://host:port to share broadcasts, rooms and presence across replicas.",
    ),
    presence_ttl: float = typer.Option(
        15.0,
        envvar=_env("PRESENCE_TTL"),
        help="With --redis: seconds after which a crashed replica's users stop counting.",
    ),
    drain_timeout: float = typer.Option(
        10.0,
        envvar=_env("DRAIN_TIMEOUT"),
        help="On SIGTERM: seconds to move clients away and flush history before exiting.",
    ),
    static: Path = typer.Option(
        None, envvar=_env("STATIC"), help="Serve this folder at / instead of escala's page."
    ),
    history: int = typer.Option(50, envvar=_env("HISTORY"), help="Messages replayed on join."),
    max_message: int = typer.Option(
        2000, envvar=_env("MAX_MESSAGE"), help="Longest message, in characters."
    ),
    rate: float = typer.Option(
        10.0, envvar=_env("RATE"), help="Messages per second one connection may send."
    ),
    log_format: str = typer.Option(
        "text", envvar=_env("LOG_FORMAT"), help="text, or json for one object per line."
    ),
    log_level: str = typer.Option(
        "info", envvar=_env("LOG_LEVEL"), help="critical, error, warning, info or debug."
    ),
    ping_interval: float = typer.Option(
        25.0,
        envvar=_env("PING_INTERVAL"),
        help="Engine.IO heartbeat: ping every N seconds; a client that stops answering is dropped.",
    ),
    allow_origin: str = typer.Option(
        None,
        envvar=_env("ALLOW_ORIGIN"),
        help="Comma-separated origins (https://host[:port]) whose pages may connect, "
        "besides the server's own; any other origin gets 403.",
    ),
    auth_secret_file: Path = typer.Option(
        None,
        envvar=_env("AUTH_SECRET_FILE"),
        help="Require a signed token (JWT, HS256) at connect, checked with the key in this "
        "file (a second line: the previous key, still accepted). Or set "
        "ESCALA_CHAT_AUTH_SECRET to the keys themselves.",
    ),
    replay_limit: int = typer.Option(
        100,
        envvar=_env("REPLAY_LIMIT"),
        help="Most messages one replay (serverOffset, since) or `history` request sends; "
        "the client asks for the next page.",
    ),
    event_rate: float = typer.Option(
        None,
        envvar=_env("EVENT_RATE"),
        help="Events of any kind (typing included) one connection may send per second "
        "(default: 3 x --rate, at least 30).",
    ),
    ip_rate: float = typer.Option(
        None,
        envvar=_env("IP_RATE"),
        help="Events per second all connections from one IP address may send together "
        "(default: 10 x --event-rate, at least 500).",
    ),
    retain_days: float = typer.Option(
        30.0, envvar=_env("RETAIN_DAYS"), help="Delete messages older than this; 0 keeps them."
    ),
    retain_messages: int = typer.Option(
        100_000,
        envvar=_env("RETAIN_MESSAGES"),
        help="Keep at most this many messages per room (the newest); 0 keeps all.",
    ),
    request_timeout: float = typer.Option(
        10.0,
        envvar=_env("REQUEST_TIMEOUT"),
        help="Seconds an HTTP client may take to send a whole request (headers and body); "
        "an idle keep-alive connection is closed then too.",
    ),
    proxy_hops: int = typer.Option(
        0,
        envvar=_env("PROXY_HOPS"),
        help="Trusted proxies in front (an ALB is 1): the client's address for --ip-rate "
        "is then read from X-Forwarded-For; 0 uses the TCP peer.",
    ),
    allow_anonymous: bool = typer.Option(
        False,
        "--allow-anonymous",
        envvar=_env("ALLOW_ANONYMOUS"),
        help="Take the getting-started tutorial's `chat message` from clients that never "
        "log in (its page has no login); off, every message needs `add user` or a token.",
    ),
    allow_eio3: bool = typer.Option(
        False,
        "--allow-eio3",
        envvar=_env("ALLOW_EIO3"),
        help="Also serve Socket.IO 2 clients (socket.io-client 2.x, Engine.IO v3), as "
        "Node's allowEIO3; off, they get 400 'Unsupported protocol version'.",
    ),
) -> None:
    """Serve the chat (page at /, Socket.IO at /socket.io/) until SIGTERM or Ctrl-C."""
    from escala.chat.options import AUTH_SECRET_ENV, ServeOptions, origin_list

    options = ServeOptions(
        host=host,
        port=port,
        data_dir=data_dir,
        database=database,
        redis=redis,
        presence_ttl=presence_ttl,
        drain_timeout=drain_timeout,
        static=static,
        history=history,
        max_message=max_message,
        rate=rate,
        log_format=log_format,
        log_level=log_level,
        ping_interval=ping_interval,
        allow_origin=origin_list(allow_origin),
        auth_secret_file=auth_secret_file,
        auth_secret=os.environ.get(AUTH_SECRET_ENV),
        replay_limit=replay_limit,
        event_rate=event_rate,
        ip_rate=ip_rate,
        retain_days=retain_days,
        retain_messages=retain_messages,
        request_timeout=request_timeout,
        proxy_hops=proxy_hops,
        allow_anonymous=allow_anonymous,
        allow_eio3=allow_eio3,
    )
    options.check()
    run_serve(options)


def run_serve(options: "ServeOptions") -> None:
    """Open the history store and serve until SIGTERM or Ctrl-C."""
    from escala.chat.cloudwatch import start_publisher
    from escala.chat.logs import configure
    from escala.chat.relay import RelayUnavailable
    from escala.chat.server import ChatServer, run
    from escala.chat.store import StoreError, open_store

    configure(options.log_format, options.log_level)
    store = open_store(options.database, options.history_dir())
    try:
        server = ChatServer(store, options)
        start_publisher(server.metrics)  # CloudWatch EMF lines, when the platform asks
        run(server)
    except (StoreError, RelayUnavailable) as e:
        raise EscalaError(f"chat server could not start: {e}") from e


@app.command()
def token(
    user: str = typer.Option(..., "--user", help="Who the token is for: its `sub` claim."),
    name: str = typer.Option(
        None, "--name", help="The name the chat shows (the `name` claim; default: --user)."
    ),
    ttl: str = typer.Option("1h", "--ttl", help="How long the token is valid: 30m, 1h, 12h."),
    auth_secret_file: Path = typer.Option(
        None,
        envvar=_env("AUTH_SECRET_FILE"),
        help="The server's secret file (or ESCALA_CHAT_AUTH_SECRET); its first key signs.",
    ),
) -> None:
    """Print a token for `chat serve --auth-secret-file`: connect with auth: {token}, or
    open the page as /#token=<token>. The secret itself is never printed."""
    from escala.chat.auth import mint
    from escala.chat.options import AUTH_SECRET_ENV, ServeOptions
    from escala.cli.validate import parse_duration
    from escala.errors import UsageError

    seconds = parse_duration(ttl, "--ttl")
    if seconds < 1:
        raise UsageError("--ttl: give at least 1s")
    if not user.strip():
        raise UsageError("--user: give the user's id, e.g. --user ana")
    options = ServeOptions(
        auth_secret_file=auth_secret_file, auth_secret=os.environ.get(AUTH_SECRET_ENV)
    )
    keys = options.auth_keys()
    if keys is None:
        raise UsageError(
            f"--auth-secret-file: give the server's secret file (or set {AUTH_SECRET_ENV})"
        )
    typer.echo(mint(keys[0], user, name, seconds))
