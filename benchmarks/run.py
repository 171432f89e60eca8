"""Side-by-side benchmark: escala's chat (or a stock python-socketio chat) vs Node's Socket.IO.

One command runs the issue's three scenarios against each server, with the server pinned to
one core and the load generator to the other (taskset), and prints each figure and the
ratio to Node. Usage (from the repository root):

    .venv/bin/python benchmarks/run.py [--python-server stock|escala] [--duration 10]

Not a test: figures depend on the machine and on whatever else runs on it.
"""

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.servers import free_port, start, stop

HERE = Path(__file__).parent
SERVER_CORE, LOAD_CORE = "0", "1"


def server_argv(kind: str, port: int) -> list[str]:
    if kind == "node":
        node_dir = HERE / "node-reference"
        if not (node_dir / "node_modules" / "socket.io").exists():
            subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=node_dir, check=True)
        return ["node", str(node_dir / "server.js"), str(port)]
    if kind == "stock":
        return [sys.executable, str(HERE / "servers" / "socketio_chat.py"), str(port)]
    if kind == "raw":
        return [sys.executable, str(HERE / "servers" / "raw_broadcast.py"), str(port)]
    if kind == "escala":
        escala = str(Path(sys.executable).parent / "escala")
        return [escala, "chat", "serve", "--host", "127.0.0.1", "--port", str(port)]
    raise SystemExit(f"unknown server {kind}")


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn may fork a worker)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def load(port: int, *args: str) -> dict:
    escala = str(Path(sys.executable).parent / "escala")
    argv = ["taskset", "-c", LOAD_CORE, escala, "load", "--url", f"http://127.0.0.1:{port}"]
    out = subprocess.run([*argv, *args, "-o", "json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def scenarios(kind: str, duration: int) -> dict[str, float | None]:
    port = free_port()
    proc = start(["taskset", "-c", SERVER_CORE, *server_argv(kind, port)], port)
    try:
        d = f"{duration}s"
        fan = load(port, "--clients", "100", "--senders", "10", "--rate", "3000", "--duration", d)
        steady = load(
            port,
            "--clients",
            "1000",
            "--senders",
            "1",
            "--rate",
            "100",
            "--ramp",
            "3s",
            "--duration",
            str(duration + 3) + "s",
            "--no-add-user",
        )
        before = rss_kib(proc.pid)
        peak = [before]

        def sample() -> None:
            while proc.poll() is None and not done.is_set():
                peak[0] = max(peak[0], rss_kib(proc.pid))
                time.sleep(0.2)

        done = threading.Event()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        idle = load(
            port, "--clients", "5000", "--senders", "0", "--no-add-user", "--duration", "12s"
        )
        done.set()
        sampler.join()
    finally:
        stop(proc)
    return {
        "1 fan-out delivered msgs/s": fan["delivered_per_s"],
        "1 fan-out p99 ms": fan["latency_p99_ms"],
        "2 1000 clients p50 ms": steady["latency_p50_ms"],
        "2 1000 clients p99 ms": steady["latency_p99_ms"],
        "2 1000 clients max ms": steady["latency_max_ms"],
        "3 idle KiB/connection": (peak[0] - before) / max(idle["connected"], 1),
        "3 idle connect time s": idle["connect_time_s"],
        "3 idle connected": idle["connected"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-server", default="stock", choices=["stock", "escala", "raw"])
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    results = {k: scenarios(k, args.duration) for k in (args.python_server, "node")}
    py, node = results[args.python_server], results["node"]
    print(f"{'figure':32} {args.python_server:>12} {'node':>12} {'ratio':>8}")
    for figure in node:
        a, b = py[figure], node[figure]
        ratio = f"{a / b:.2f}" if a is not None and b else "-"
        fa = "-" if a is None else f"{a:,.1f}"
        fb = "-" if b is None else f"{b:,.1f}"
        print(f"{figure:32} {fa:>12} {fb:>12} {ratio:>8}")


if __name__ == "__main__":
    main()
