"""`escala load`: drive chat clients at a Socket.IO chat and report what they saw."""

import math
import os
from pathlib import Path

import typer
from rich.live import Live

from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, err_console, table
from escala.errors import UsageError
from escala.loadgen import report
from escala.loadgen.runner import LoadOptions, run
from escala.loadgen.stats import Counters

TOKEN_MARGIN_S = 600.0  # connects and ramps may take minutes before the run's duration


def _seconds(text: str, flag: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0}
    for suffix in ("ms", "s", "m"):
        if text.endswith(suffix):
            number, factor = text[: -len(suffix)], units[suffix]
            break
    else:
        number, factor = text, 1.0
    try:
        seconds = float(number) * factor
    except ValueError:
        seconds = math.nan  # refused just below, like inf and nan themselves
    if not math.isfinite(seconds):
        raise UsageError(f"{flag} {text!r}: give a duration such as 30s, 500ms or 2m")
    return seconds


def load(
    url: str | None = typer.Option(
        None, "--url", help="The chat's address, e.g. http://127.0.0.1:8000."
    ),
    clients: int = typer.Option(10, "--clients", help="Socket.IO clients to open."),
    senders: int = typer.Option(1, "--senders", help="How many of the clients send."),
    rate: float = typer.Option(10.0, "--rate", help="Total messages per second over senders."),
    duration: str = typer.Option("30s", "--duration", help="The run stops by itself after this."),
    ramp: str = typer.Option("0s", "--ramp", help="Spread client connects over this time."),
    room: str | None = typer.Option(
        None,
        "--room",
        help="Every client logs in and joins this room (escala's `join`; a chat without "
        "rooms, like the Node reference, never answers and the clients fail to connect).",
    ),
    messages: int | None = typer.Option(
        None, "--messages", help="Stop sending after this many messages in total."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Load processes (default: one per usable core)."
    ),
    add_user: bool = typer.Option(
        True,
        "--add-user/--no-add-user",
        help="Log each listener in with `add user` (each login is broadcast to everyone); "
        "senders always log in.",
    ),
    transport: str = typer.Option(
        "websocket",
        "--transport",
        help="websocket, or polling: HTTP long-polling clients that never upgrade.",
    ),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow a target that is not a loopback address."
    ),
    auth_secret_file: Path | None = typer.Option(
        None,
        "--auth-secret-file",
        envvar="ESCALA_CHAT_AUTH_SECRET_FILE",
        help="For a chat served with --auth-secret-file (or ESCALA_CHAT_AUTH_SECRET): "
        "its secret; each client connects with a token of its own (user load-N).",
    ),
    png: Path | None = typer.Option(None, "--report", help="Draw throughput/latency to a PNG."),
    calibrate_to: Path | None = typer.Option(
        None,
        "--calibrate",
        help="Instead of one run: start a local replica, drive it through a ladder of "
        "connections and rates, and write the capacity model `escala simulate` reads here.",
    ),
    redis: str | None = typer.Option(
        None, "--redis", help="--calibrate: relay through this Redis, as replicas do."
    ),
    latency_target: str = typer.Option(
        "100ms", "--latency-target", help="--calibrate: the p99 whose crossing is measured."
    ),
    step: str = typer.Option("8s", "--step", help="--calibrate: how long each rung runs."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Open N chat clients, have M of them send, and measure delivery latency."""
    if calibrate_to is not None:
        if url is not None:
            raise UsageError("--url: --calibrate starts its own replica; leave --url out")
        _calibrate(calibrate_to, redis, latency_target, step, output)
        return
    if url is None:
        raise UsageError("--url: give the chat's address, e.g. --url http://127.0.0.1:3000")
    if png is not None and not png.parent.is_dir():
        raise UsageError(
            f"--report {png}: the folder {png.parent} does not exist; create it or pick another"
        )
    opts = LoadOptions(
        url=url,
        clients=clients,
        senders=senders,
        rate=rate,
        duration=_seconds(duration, "--duration"),
        ramp=_seconds(ramp, "--ramp"),
        room=room,
        messages=messages,
        workers=workers,
        allow_remote=allow_remote,
        add_user=add_user,
        transport=transport,
        tokens=_tokens(auth_secret_file, clients, _seconds(duration, "--duration")),
    )
    with Live(console=err_console, transient=True, auto_refresh=False) as live:

        def progress(c: Counters, elapsed: float) -> None:
            live.update(
                f"{elapsed:5.1f}s  connected {c.connected}  sent {c.sent}  "
                f"refused {sum(c.refused.values())}  delivered {c.delivered}  errors {c.errors}",
                refresh=True,
            )

        result = run(opts, progress)
    if png is not None:
        report.draw_png(result, png)
    emit(
        report.as_dict(result),
        output,
        lambda: table(["FIGURE", "VALUE"], report.rows(result)),
    )
    if png is not None and output is OutputFormat.table:
        console.print(f"report written to {png}")


def _tokens(secret_file: Path | None, clients: int, duration: float) -> tuple[str, ...]:
    """A token per client, signed as `escala chat token` signs, valid for the run (and
    a margin for connects); none when the chat authenticates nobody."""
    from escala.chat.auth import mint
    from escala.chat.options import AUTH_SECRET_ENV, ServeOptions

    options = ServeOptions(
        auth_secret_file=secret_file, auth_secret=os.environ.get(AUTH_SECRET_ENV)
    )
    keys = options.auth_keys()
    if keys is None:
        return ()
    ttl = duration + TOKEN_MARGIN_S
    return tuple(mint(keys[0], f"load-{i}", None, ttl) for i in range(clients))


def _calibrate(path: Path, redis: str | None, target: str, step: str, output: OutputFormat) -> None:
    from escala.loadgen.calibrate import CalibrateOptions, calibrate
    from escala.simulation.capacity import dump_model

    if not path.parent.is_dir():
        raise UsageError(f"--calibrate {path}: the folder {path.parent} does not exist")
    if redis is not None and not redis.startswith(("redis://", "rediss://")):
        raise UsageError("--redis: must be a redis:// or rediss:// URL")
    target_ms = _seconds(target, "--latency-target") * 1000
    step_s = _seconds(step, "--step")
    if target_ms <= 0:
        raise UsageError(f"--latency-target {target!r}: give a positive time such as 100ms")
    if step_s < 4:
        raise UsageError(f"--step {step!r}: give at least 4s (connect, send, drain)")
    opts = CalibrateOptions(redis=redis, latency_target_ms=target_ms, step_s=step_s)
    with Live(console=err_console, transient=True, auto_refresh=False) as live:

        def progress(n: int, total: int, rung: tuple[int, float]) -> None:
            live.update(
                f"rung {n + 1}/{total}: {rung[0]} connections, {rung[1]:g} msgs/s", refresh=True
            )

        model = calibrate(opts, progress)
    path.write_text(dump_model(model))
    cpu, latency = model.cpu, model.latency
    figures = [
        ("CPU per connection", f"{cpu.per_connection * 1e6:.2f} µcores"),
        ("CPU per delivered msg/s", f"{cpu.per_delivered * 1e6:.3f} µcores"),
        ("CPU per handled msg/s", f"{cpu.per_message * 1e6:.2f} µcores"),
        ("memory per connection", f"{model.memory.per_connection_kib:.1f} KiB"),
        (
            f"p99 > {latency.target_ms:g} ms at",
            f"{latency.knee_delivered_per_s:,.0f} delivered msgs/s, "
            f"{latency.knee_cpu_cores:.2f} cores ({latency.knee_from})",
        ),
    ]
    emit(
        model.model_dump(mode="json", by_alias=True),
        output,
        lambda: table(["FIGURE", "VALUE"], figures, title=f"capacity model written to {path}"),
    )
