"""Plan a load run, spread it over worker processes, and merge what they saw."""

import ipaddress
import math
import multiprocessing
import os
import queue as queue_module
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from escala.errors import UsageError
from escala.loadgen import protocol
from escala.loadgen.stats import Counters, Summary, Timeline, summarise
from escala.loadgen.worker import ClientPlan, WorkerPlan, WorkerResult, run_worker

# Time given after the last planned connect before senders start, and after senders stop
# for in-flight messages to arrive.
SETTLE_S = 0.5
DRAIN_S = 1.0
TRANSPORTS = ("websocket", "polling")


@dataclass(frozen=True)
class LoadOptions:
    url: str
    clients: int = 10
    senders: int = 1
    rate: float = 10.0  # total messages per second over all senders
    duration: float = 30.0
    ramp: float = 0.0
    room: str | None = None
    messages: int | None = None  # total cap on messages sent, for exact runs
    workers: int | None = None
    allow_remote: bool = False
    # Whether each client logs in with `add user`. The chat announces every login to
    # everyone, so thousands of idle clients logging in cost O(N^2) broadcasts.
    add_user: bool = True
    transport: str = "websocket"  # or "polling" (HTTP long-polling, never upgraded)
    # One token per client, by index, for a chat that wants `auth: {token}`; never shown.
    tokens: tuple[str, ...] = field(default=(), repr=False)


@dataclass
class LoadResult:
    summary: Summary
    timeline: Timeline
    started: float


ProgressCallback = Callable[[Counters, float], None]


def check_options(opts: LoadOptions) -> None:
    """Refuse a run that makes no sense or that would aim at someone else's server."""
    parts = urlsplit(opts.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url {opts.url!r}: give the chat's address, e.g. http://127.0.0.1:8000")
    if not opts.allow_remote and not _is_loopback(parts.hostname):
        raise UsageError(
            f"--url {opts.url!r}: {parts.hostname} is not a loopback address; a load tool must "
            "not hit someone else's server by accident. Pass --allow-remote if it is yours."
        )
    if opts.clients < 1:
        raise UsageError("--clients must be at least 1")
    if opts.tokens and len(opts.tokens) != opts.clients:
        raise UsageError(f"{len(opts.tokens)} tokens for {opts.clients} clients: give one each")
    if not 0 <= opts.senders <= opts.clients:
        raise UsageError(f"--senders must be between 0 and --clients ({opts.clients})")
    if opts.senders and not (0 < opts.rate < math.inf):
        raise UsageError("--rate must be a positive number when there are senders")
    if opts.ramp < 0:
        raise UsageError("--ramp must not be negative")
    if opts.duration < opts.ramp + SETTLE_S + DRAIN_S + 0.5:
        raise UsageError(
            f"--duration must exceed --ramp by at least {SETTLE_S + DRAIN_S + 0.5:g}s "
            "(connect, send, then drain)"
        )
    if opts.messages is not None and opts.messages < 0:
        raise UsageError("--messages must not be negative")
    if opts.workers is not None and opts.workers < 1:
        raise UsageError("--workers must be at least 1")
    if opts.transport not in TRANSPORTS:
        raise UsageError(f"--transport {opts.transport!r}: use {' or '.join(TRANSPORTS)}")


def _is_loopback(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as e:
        raise UsageError(f"--url: cannot resolve {host!r}: {e.strerror}") from e
    return all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def default_workers(clients: int) -> int:
    """One worker per usable core, but no more than one per 50 clients."""
    cores = len(os.sched_getaffinity(0))
    return max(1, min(cores, clients // 50 or 1))


def plan_workers(opts: LoadOptions, started: float) -> list[WorkerPlan]:
    """Split clients round-robin over workers; senders share the rate and the message cap."""
    workers = opts.workers or default_workers(opts.clients)
    send_from = started + opts.ramp + SETTLE_S
    deadline = started + opts.duration
    send_until = deadline - DRAIN_S
    per_sender_rate = opts.rate / opts.senders if opts.senders else 0.0
    shares: list[list[ClientPlan]] = [[] for _ in range(workers)]
    # Senders are spread evenly over the clients so they land in every worker.
    sender_every = opts.clients / opts.senders if opts.senders else 0
    sender_indexes = {int(i * sender_every) for i in range(opts.senders)}
    nth_sender = 0
    for index in range(opts.clients):
        connect_at = started + (opts.ramp * index / opts.clients)
        plan = ClientPlan(index=index, connect_at=connect_at)
        if index in sender_indexes:
            cap = None
            if opts.messages is not None:
                cap = opts.messages // opts.senders + (nth_sender < opts.messages % opts.senders)
            plan = ClientPlan(index, connect_at, per_sender_rate, cap)
            nth_sender += 1
        shares[index % workers].append(plan)
    url = protocol.engine_url(opts.url, opts.transport)
    return [
        WorkerPlan(
            worker=w,
            engine_url=url,
            started=started,
            send_from=send_from,
            send_until=send_until,
            deadline=deadline,
            clients=tuple(share),
            total_clients=opts.clients,
            add_user=opts.add_user,
            room=opts.room,
            transport=opts.transport,
            tokens={c.index: opts.tokens[c.index] for c in share} if opts.tokens else {},
        )
        for w, share in enumerate(shares)
        if share
    ]


def run(opts: LoadOptions, on_progress: ProgressCallback | None = None) -> LoadResult:
    """Run the load and block until every worker has reported, at most --duration + slack."""
    check_options(opts)
    ctx = multiprocessing.get_context("spawn")
    results_queue = ctx.Queue()
    # Workers take a moment to spawn; start the clock once they can be ready.
    started = time.time() + 1.0
    plans = plan_workers(opts, started)
    settled = ctx.Value("i", 0)  # clients connected or failed, over every worker
    procs = [
        ctx.Process(target=run_worker, args=(p, results_queue, settled), daemon=True) for p in plans
    ]
    for proc in procs:
        proc.start()
    latest: dict[int, Counters] = {}
    results: list[WorkerResult] = []
    hard_stop = started + opts.duration + 30
    try:
        while len(results) < len(plans) and time.time() < hard_stop:
            try:
                kind, *payload = results_queue.get(timeout=0.5)
            except queue_module.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            if kind == "progress":
                worker, counters = payload
                latest[worker] = counters
                if on_progress is not None:
                    on_progress(_total(latest.values()), time.time() - started)
            else:
                (result,) = payload
                latest[result.worker] = result.counters
                results.append(result)
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    return _merge(opts, plans, results, started)


def _total(parts: object) -> Counters:
    total = Counters()
    for part in parts:  # type: ignore[attr-defined]
        total.add(part)
    return total


def _merge(
    opts: LoadOptions, plans: list[WorkerPlan], results: list[WorkerResult], started: float
) -> LoadResult:
    counters = _total(r.counters for r in results)
    counters.errors += len(plans) - len(results)  # a worker that never reported
    timeline = Timeline()
    for r in results:
        timeline.merge(r.timeline)
    last = [r.last_connected for r in results if r.last_connected is not None]
    connect_time = (max(last) - started) if last and counters.connected == opts.clients else None
    send_window = max(0.0, opts.duration - opts.ramp - SETTLE_S)
    summary = summarise(opts.clients, counters, timeline, connect_time, send_window, opts.duration)
    return LoadResult(summary, timeline, started)
