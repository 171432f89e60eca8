"""Side-by-side benchmark: escala's chat (or a stock python-socketio chat) vs Node's Socket.IO.

One command runs the issue's scenarios against each server, with the server pinned to one
core and the load generator to the other (taskset), and prints each figure and the ratio
to Node. Usage (from the repository root):

    .venv/bin/python benchmarks/run.py [--python-server escala|stock|raw]
        [--duration 10] [--scenarios 123pr] [--rounds 3] [--baseline REF] [--no-node]

Each scenario gets a fresh server process. `p` is 200 long-polling clients in one room at
~1k deliveries/s; `r` is scenario 1 on two replicas behind one Redis (escala `--redis`;
Node with @socket.io/redis-adapter). Scenarios 1 and r also report the servers' CPU
seconds and deliveries per CPU-second: one generator core saturates before escala's
server does, and that figure still compares the servers. With `--rounds N` the servers
take turns N times (escala, node, escala, node, ...) and each figure is the median of its
N runs, so a noisy minute on a shared machine hits both sides. `--baseline REF` adds
escala as of git REF (checked out in a throwaway worktree, run from its sources with this
venv's packages) to the turns, for before/after figures of a change; `--no-node` leaves
Node out of them.

escala runs with `--rate 100000`: the reference servers have no flood limit, and escala's
default (10 messages per second per connection) would refuse most of what the senders
offer (`escala load` counts those refusals apart).

Not a test: figures depend on the machine and on whatever else runs on it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.servers import free_port, start, stop

HERE = Path(__file__).parent
SERVER_CORE, LOAD_CORE = "0", "1"
START_ATTEMPTS = 3
LISTENERS = ("--no-add-user",)
"""Scenarios 1 and r: only the senders log in. Deliveries per CPU-second are about the
broadcast path; with every listener logging in, the two-replica figure also carried 100
cluster-wide presence logins through Redis (a fixed 0.35 CPU-s per run, measured,
against 0.04 s on one replica), which weighs 15 % of a run whose servers are not
saturated (docs/performance.md, "Two replicas, fixed costs")."""


BASELINE = "escala@"
"""A kind `escala@<dir>`: escala from the sources in <dir>/src (a `--baseline` worktree)."""


def server_env(kind: str) -> dict[str, str] | None:
    """The environment of a baseline server: its own sources ahead of this checkout's."""
    if not kind.startswith(BASELINE):
        return None
    return {**os.environ, "PYTHONPATH": str(Path(kind.removeprefix(BASELINE)) / "src")}


def server_argv(kind: str, port: int, data_dir: str, redis_url: str | None = None) -> list[str]:
    if kind == "node":
        node_dir = HERE / "node-reference"
        if not (node_dir / "node_modules" / "@socket.io" / "redis-adapter").exists():
            subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=node_dir, check=True)
        return ["node", str(node_dir / "server.js"), str(port), *([redis_url] if redis_url else [])]
    if kind == "stock":
        return [sys.executable, str(HERE / "servers" / "socketio_chat.py"), str(port)]
    if kind == "raw":
        return [sys.executable, str(HERE / "servers" / "raw_broadcast.py"), str(port)]
    if kind == "escala" or kind.startswith(BASELINE):
        # The reference servers have no per-connection flood limit: lift escala's, so the
        # senders' 300 msgs/s each are not refused. History goes to a throwaway directory.
        return [
            *(sys.executable, "-m", "escala", "chat", "serve"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--data-dir", data_dir, "--rate", "100000"),
            *(["--redis", redis_url] if redis_url else []),
        ]
    if redis_url:
        raise SystemExit(f"{kind} has no --redis set-up here")
    raise SystemExit(f"unknown server {kind}")


def _family(pid: int) -> list[int]:
    """A process and its children (the stock server's uvicorn may fork a worker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children."""
    total = 0
    for p in _family(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def cpu_s(*pids: int) -> float:
    """CPU seconds (user + system, every thread) used so far by processes and their children.

    When the load generator is the limit, delivered msgs/s says nothing about a server;
    deliveries per CPU-second of the server still do.
    """
    ticks = 0
    for pid in pids:
        for p in _family(pid):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def load(port: int, *args: str) -> dict:
    escala = str(Path(sys.executable).parent / "escala")
    argv = ["taskset", "-c", LOAD_CORE, escala, "load", "--url", f"http://127.0.0.1:{port}"]
    out = subprocess.run([*argv, *args, "-o", "json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


class Server:
    """One server process pinned to the server core; a fresh one for every scenario.

    A fresh process per scenario keeps one scenario's backlog and freed-but-kept memory
    (pymalloc, V8) out of the next scenario's figures.
    """

    def __init__(self, kind: str, redis_url: str | None = None) -> None:
        self.data_dir = tempfile.TemporaryDirectory(prefix="escala-bench-")
        for attempt in range(START_ATTEMPTS):
            # A free port can be taken as an ephemeral source port (5000 load clients use
            # as many) before the server binds it: then try another.
            self.port = free_port()
            argv = server_argv(kind, self.port, self.data_dir.name, redis_url)
            try:
                self.proc = start(
                    ["taskset", "-c", SERVER_CORE, *argv], self.port, env=server_env(kind)
                )
                break
            except RuntimeError:
                if attempt == START_ATTEMPTS - 1:
                    raise

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self.proc)
        self.data_dir.cleanup()


def fan_out(kind: str, duration: int) -> dict[str, float | None]:
    """Scenario 1: 100 clients in one room, 10 senders, offered more than a server takes."""
    with Server(kind) as s:
        args = ("--clients", "100", "--senders", "10", "--rate", "6000", *LISTENERS)
        before = cpu_s(s.proc.pid)
        fan = load(s.port, *args, "--duration", f"{duration}s")
        used = cpu_s(s.proc.pid) - before
    return {
        "1 fan-out delivered msgs/s": fan["delivered_per_s"],
        "1 fan-out p99 ms": fan["latency_p99_ms"],
        "1 fan-out server CPU s": used,
        "1 fan-out deliveries/server CPU-s": fan["delivered"] / used if used else None,
    }


def steady(kind: str, duration: int) -> dict[str, float | None]:
    """Scenario 2: 1000 clients, 5 messages per second: ~5k deliveries/s."""
    with Server(kind) as s:
        args = ("--clients", "1000", "--senders", "1", "--rate", "5", "--ramp", "3s")
        run = load(s.port, *args, "--duration", f"{duration + 3}s", "--no-add-user")
    return {
        "2 1000 clients p50 ms": run["latency_p50_ms"],
        "2 1000 clients p99 ms": run["latency_p99_ms"],
        "2 1000 clients max ms": run["latency_max_ms"],
    }


def polling(kind: str, duration: int) -> dict[str, float | None]:
    """Scenario p: 200 long-polling clients in one room, 5 messages per second: ~1k
    deliveries/s, each one an HTTP response."""
    with Server(kind) as s:
        args = ("--clients", "200", "--senders", "1", "--rate", "5", "--ramp", "2s")
        args += ("--transport", "polling", "--no-add-user", "--workers", "1")
        run = load(s.port, *args, "--duration", f"{duration + 2}s")
    return {
        "p 200 polling delivered msgs/s": run["delivered_per_s"],
        "p 200 polling p50 ms": run["latency_p50_ms"],
        "p 200 polling p99 ms": run["latency_p99_ms"],
    }


def idle(kind: str) -> dict[str, float | None]:
    """Scenario 3: 5000 idle clients; server RSS growth per connection and connect time."""
    with Server(kind) as s:
        before = rss_kib(s.proc.pid)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while s.proc.poll() is None and not done.is_set():
                peak[0] = max(peak[0], rss_kib(s.proc.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            run = load(
                s.port, "--clients", "5000", "--senders", "0", "--no-add-user", "--duration", "12s"
            )
        finally:
            done.set()
            sampler.join()
    return {
        "3 idle KiB/connection": (peak[0] - before) / max(run["connected"], 1),
        "3 idle connect time s": run["connect_time_s"],
        "3 idle connected": run["connected"],
    }


@contextmanager
def redis_server() -> Iterator[tuple[str, int]]:
    """A throwaway redis-server on the server core, for the two-replica set-up: (url, pid)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="escala-bench-redis-") as data:
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", data]
        proc = start(["taskset", "-c", SERVER_CORE, *argv], port)
        try:
            yield f"redis://127.0.0.1:{port}", proc.pid
        finally:
            stop(proc)


def fan_out_two_replicas(kind: str, duration: int) -> dict[str, float | None]:
    """Scenario 1 over two replicas sharing one Redis, all on the server core: half the
    clients and senders on each, every message still reaching all 99 other clients."""
    with redis_server() as (url, redis_pid), Server(kind, url) as a, Server(kind, url) as b:
        args = ("--clients", "50", "--senders", "5", "--rate", "3000", *LISTENERS)
        args += ("--duration", f"{duration}s")
        pids = (a.proc.pid, b.proc.pid, redis_pid)
        before = cpu_s(*pids)
        with ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda s: load(s.port, *args), (a, b)))
        used = cpu_s(*pids) - before
    p99s = [r["latency_p99_ms"] for r in runs if r["latency_p99_ms"] is not None]
    delivered = sum(r["delivered"] for r in runs)
    return {
        "1r 2 replicas delivered msgs/s": sum(r["delivered_per_s"] for r in runs),
        "1r 2 replicas p99 ms": max(p99s) if p99s else None,
        "1r replicas+redis CPU s": used,
        "1r deliveries/CPU-s": delivered / used if used else None,
    }


def scenarios(kind: str, duration: int, only: str) -> dict[str, float | None]:
    """The chosen scenarios ("123" = all) against one kind of server, each on a fresh process."""
    figures: dict[str, float | None] = {}
    if "1" in only:
        figures |= fan_out(kind, duration)
    if "2" in only:
        figures |= steady(kind, duration)
    if "3" in only:
        figures |= idle(kind)
    if "p" in only:
        figures |= polling(kind, duration)
    if "r" in only:
        figures |= fan_out_two_replicas(kind, duration)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-server", default="escala", choices=["escala", "stock", "raw"])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument(
        "--scenarios",
        default="123p",
        help="which to run, e.g. 1 or 13; p: 200 polling clients; r: scenario 1 on two "
        "replicas + Redis",
    )
    parser.add_argument("--rounds", type=int, default=1, help="interleaved runs; medians")
    parser.add_argument("--baseline", metavar="REF", help="also run escala as of git REF")
    parser.add_argument("--no-node", action="store_true", help="leave the Node server out")
    args = parser.parse_args()
    with _baseline(args.baseline) as base:
        kinds = [args.python_server, *([base] if base else []), *([] if args.no_node else ["node"])]
        runs: dict[str, list[dict[str, float | None]]] = {k: [] for k in kinds}
        for _ in range(args.rounds):
            for kind in kinds:
                runs[kind].append(scenarios(kind, args.duration, args.scenarios))
    results = {k: _medians(v) for k, v in runs.items()}
    print(json.dumps(runs), file=sys.stderr)  # every run, for the record
    names = {k: f"{BASELINE}{args.baseline}" if k == base else k for k in kinds}
    ref = kinds[-1]  # ratios are to Node, or to the baseline without Node
    print(f"{'figure':32}" + "".join(f" {names[k][:14]:>14}" for k in kinds) + f" {'ratio':>8}")
    for figure in results[ref]:
        a, b = results[kinds[0]][figure], results[ref][figure]
        ratio = f"{a / b:.2f}" if a is not None and b else "-"
        cells = "".join(
            f" {'-' if results[k][figure] is None else f'{results[k][figure]:,.1f}':>14}"
            for k in kinds
        )
        print(f"{figure:32}{cells} {ratio:>8}")


@contextmanager
def _baseline(ref: str | None) -> Iterator[str | None]:
    """escala as of `ref`, in a throwaway git worktree: its kind name, or None."""
    if ref is None:
        yield None
        return
    root = Path(__file__).parents[1]
    with tempfile.TemporaryDirectory(prefix="escala-baseline-") as parent:
        tree = Path(parent) / "tree"
        git = ["git", "-C", str(root), "worktree"]
        subprocess.run([*git, "add", "--detach", str(tree), ref], check=True, capture_output=True)
        try:
            yield f"{BASELINE}{tree}"
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=True)


def _medians(runs: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Each figure's median over the runs that produced it."""
    out: dict[str, float | None] = {}
    for figure in runs[0]:
        values = [r[figure] for r in runs if r[figure] is not None]
        out[figure] = statistics.median(values) if values else None  # type: ignore[type-var]
    return out


if __name__ == "__main__":
    main()
