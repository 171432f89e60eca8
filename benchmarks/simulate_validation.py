"""The scaling lab's capacity model against real replicas: 1, 2 and 3 local `escala chat
serve` replicas behind one Redis, each load spread evenly over them (one `escala load` run
per replica, at the same time, as a load balancer would spread clients), next to what
the model predicts for the same load. Usage (from the repository root):

    .venv/bin/python benchmarks/simulate_validation.py [--model FILE] [--clients 3000]
        [--rates 10,20,40] [--duration 15]

Not a test: on a shared 2-core machine the replicas, Redis and the load generator share
the same cores as everything else; the figures are noisy and say so in docs/scaling.md.
"""

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
from escala.loadgen.calibrate import SENDER_RATE, replica
from escala.loadgen.runner import DRAIN_S, SETTLE_S, LoadOptions, LoadResult, run
from escala.loadgen.stats import Timeline, percentile
from escala.simulation.capacity import CapacityModel, load_model
from escala.simulation.simulator import Costs, share


def redis_server(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    proc = subprocess.Popen(
        [*argv, "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
    )
    return proc, f"redis://127.0.0.1:{port}"


def measure(
    urls: list[str], processes: list[psutil.Process], clients: int, rate: float, duration: float
) -> dict[str, float]:
    """One run per replica at once; deliveries and p99 over all of them, and the mean CPU
    of one replica while the senders send (sampled as the first run reports progress)."""
    results: list[LoadResult] = []
    samples: list[tuple[float, float]] = []
    ramp = max(1.0, clients / 1000)

    def sample(_: object, __: float) -> None:
        samples.append((time.time(), sum(sum(p.cpu_times()[:2]) for p in processes)))

    def one(url: str) -> None:
        n = len(urls)
        results.append(
            run(
                LoadOptions(
                    url=url,
                    clients=clients // n,
                    senders=max(1, math.ceil(rate / n / SENDER_RATE)),
                    rate=rate / n,
                    duration=duration + ramp,
                    ramp=ramp,
                    workers=1,
                    add_user=False,
                ),
                sample if url == urls[0] else None,
            )
        )

    threads = [threading.Thread(target=one, args=(u,)) for u in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    timeline = Timeline()
    for r in results:
        timeline.merge(r.timeline)
    latencies = sorted(timeline.all_latencies())
    window = duration - SETTLE_S
    start = min(r.started for r in results) + ramp + SETTLE_S + 0.5
    end = max(r.started for r in results) + duration + ramp - DRAIN_S
    window_samples = [x for x in samples if start <= x[0] <= end] or samples[-2:]
    (t0, c0), (t1, c1) = window_samples[0], window_samples[-1]
    return {
        "cpu_cores": (c1 - c0) / max(t1 - t0, 1e-6) / len(processes),
        "sent_per_s": sum(r.summary.sent for r in results) / window,
        "delivered_per_s": sum(r.summary.delivered for r in results) / window,
        "p99_ms": percentile(latencies, 99) or math.nan,
    }


def predict(model: CapacityModel, replicas: int, clients: int, sent: float) -> dict[str, float]:
    """The model's figures for `sent` msgs/s among `clients` in one lobby over `replicas`."""
    s = share(Costs.of(model), clients, sent, None, replicas, 1.0, math.inf)
    busy = s.demand_cores / model.saturation_cores(1.0)
    capacity = model.latency.knee_delivered_per_s * replicas
    return {
        "delivered_per_s": min(sent * (clients - 1), capacity),
        "p99_ms": model.latency.p99_ms(busy),
        "cpu_cores": s.demand_cores,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--clients", type=int, default=3000)
    parser.add_argument("--rates", default="10,20,40")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    model = load_model(args.model)
    rows = []
    folder = tempfile.mkdtemp(prefix="escala-validate-")
    redis, url = redis_server(folder)
    try:
        for replicas in (1, 2, 3):
            with ExitStack() as stack:
                started = [stack.enter_context(replica(url)) for _ in range(replicas)]
                urls, processes = [u for u, _ in started], [p for _, p in started]
                for rate in (float(r) for r in args.rates.split(",")):
                    seen = measure(urls, processes, args.clients, rate, args.duration)
                    guess = predict(model, replicas, args.clients, rate)
                    rows.append(
                        {"replicas": replicas, "rate": rate, "measured": seen, "predicted": guess}
                    )
                    print(json.dumps(rows[-1]), flush=True)
    finally:
        redis.terminate()
        redis.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print("| replicas | msgs/s offered / sent | delivered msgs/s predicted / measured |", end="")
    print(" p99 ms predicted / measured | CPU per replica predicted / measured |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        m, p = r["measured"], r["predicted"]
        print(
            f"| {r['replicas']} | {r['rate']:g} / {m['sent_per_s']:.1f} | "
            f"{p['delivered_per_s']:,.0f} / {m['delivered_per_s']:,.0f} | "
            f"{p['p99_ms']:.0f} / {m['p99_ms']:.0f} | "
            f"{p['cpu_cores']:.2f} / {m['cpu_cores']:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
