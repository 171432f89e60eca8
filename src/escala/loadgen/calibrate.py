"""`escala load --calibrate`: measure one local chat replica through a ladder of
connections and message rates, and fit the lab's capacity model to what it cost.

The replica is started here (`escala chat serve`, optionally relaying through Redis) so
its process can be watched: CPU time and resident memory come from psutil while each
rung's senders are sending; throughput and p99 from the load run itself. Each rung is a
full `escala load` run, one load worker (the replica needs the other core).
"""

import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import NamedTuple

import psutil

from escala import __version__
from escala.errors import EscalaError
from escala.loadgen.runner import DRAIN_S, SETTLE_S, LoadOptions, run
from escala.loadgen.stats import Counters
from escala.simulation.capacity import CapacityModel, LadderPoint, Machine, Measured, fit

# (connections, total messages/s); rate 0 rungs measure what idle connections cost; the
# busiest count (3000) carries the rate ladder the latency knee is read from.
LADDER: tuple[tuple[int, float], ...] = (
    (500, 0),
    (1500, 0),
    (3000, 0),
    (200, 50),
    (200, 200),
    (1000, 20),
    (1000, 50),
    (1000, 100),
    (3000, 5),
    (3000, 10),
    (3000, 20),
    (3000, 40),
)
SENDER_RATE = 5.0  # msgs/s per sender: under the chat's 10/s limit per connection
CONNECTS_PER_S = 1000.0  # the ramp: clients connect at this pace before anyone sends


@dataclass(frozen=True)
class CalibrateOptions:
    server: str = "fast"
    redis: str | None = None
    latency_target_ms: float = 100.0
    step_s: float = 8.0
    ladder: tuple[tuple[int, float], ...] = LADDER


Progress = Callable[[int, int, tuple[int, float]], None]


def calibrate(opts: CalibrateOptions, progress: Progress | None = None) -> CapacityModel:
    """Run the ladder against a fresh replica and return the fitted model."""
    points = []
    with replica(opts.server, opts.redis) as (url, process):
        for n, rung in enumerate(opts.ladder):
            if progress is not None:
                progress(n, len(opts.ladder), rung)
            points.append(measure(url, process, *rung, step_s=opts.step_s))
    measured = Measured(
        date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=this_machine(),
        server=opts.server,
        redis=opts.redis is not None,
        versions=versions(opts.redis),
        points=points,
    )
    return fit(points, opts.latency_target_ms, measured)


def measure(
    url: str, process: psutil.Process, connections: int, rate: float, step_s: float
) -> LadderPoint:
    """One rung: `connections` clients, `rate` msgs/s in all. The replica's CPU and RSS,
    the generator's CPU and the run's counters are sampled together as the run reports
    progress; CPU and rates are taken over the same stretch, from the first sample after
    deliveries began to the last one before the senders stopped (on a busy machine the
    connects can eat into the planned send window)."""
    samples: list[_Sample] = []
    me = psutil.Process()
    workers: dict[int, psutil.Process] = {}

    def sample(counters: Counters, __: float) -> None:
        cpu = process.cpu_times()
        for child in me.children():
            workers.setdefault(child.pid, child)
        load = 0.0
        for worker in workers.values():
            try:
                times = worker.cpu_times()
            except psutil.NoSuchProcess:
                continue
            load += times.user + times.system
        rss = process.memory_info().rss / 2**20
        samples.append(
            _Sample(
                time.time(), cpu.user + cpu.system, rss, load, counters.sent, counters.delivered
            )
        )

    senders = min(connections, math.ceil(rate / SENDER_RATE)) if rate > 0 else 0
    ramp = max(1.0, connections / CONNECTS_PER_S)
    duration = step_s + ramp
    result = run(
        LoadOptions(
            url=url,
            clients=connections,
            senders=senders,
            rate=rate if rate > 0 else 1.0,
            duration=duration,
            ramp=ramp,
            workers=1,
            add_user=False,
        ),
        sample,
    )
    send_from = result.started + ramp + SETTLE_S
    send_until = result.started + duration - DRAIN_S
    window = [s for s in samples if send_from <= s.at <= send_until]
    if senders:
        window = [s for s in window if s.delivered > 0]
    if len(window) < 2:
        window = samples[-2:]
    first, last = window[0], window[-1]
    seconds = max(last.at - first.at, 1e-6)
    return LadderPoint(
        connections=result.summary.connected,
        sent_per_s=(last.sent - first.sent) / seconds,
        delivered_per_s=(last.delivered - first.delivered) / seconds,
        cpu_cores=(last.cpu - first.cpu) / seconds,
        load_cpu_cores=(last.load_cpu - first.load_cpu) / seconds,
        rss_mib=max(s.rss_mib for s in window),
        p99_ms=result.summary.latency_p99_ms,
    )


class _Sample(NamedTuple):
    at: float
    cpu: float  # the replica's CPU seconds so far
    rss_mib: float
    load_cpu: float  # the load workers' CPU seconds so far
    sent: int
    delivered: int


@contextmanager
def replica(server: str, redis: str | None) -> Iterator[tuple[str, psutil.Process]]:
    """A chat replica on a free loopback port, its history in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="escala-calibrate-") as data:
        port = _free_port()
        argv = [sys.executable, "-m", "escala", "chat", "serve", "--server", server]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--data-dir", data]
        argv += ["--log-level", "warning"]
        if redis is not None:
            argv += ["--redis", redis]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_for(port, proc)
            yield f"http://127.0.0.1:{port}", psutil.Process(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def this_machine() -> Machine:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                model,
            )
    except OSError:
        pass
    return Machine(
        cpu=model,
        cores=len(os.sched_getaffinity(0)),
        os=platform.platform(),
        python=platform.python_version(),
    )


def versions(redis_url: str | None) -> dict[str, str]:
    """escala's, its server libraries' and, when one relayed, the Redis server's."""
    out = {"escala": __version__}
    for package in ("picows", "uvloop", "python-socketio", "redis"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    if redis_url is not None:
        import redis

        client = redis.Redis.from_url(redis_url)
        try:
            out["redis-server"] = str(client.info("server")["redis_version"])
        finally:
            client.close()
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise EscalaError(f"calibration: the chat replica exited at start: {error.strip()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise EscalaError(f"calibration: the chat replica did not listen on {port} in {timeout}s")
