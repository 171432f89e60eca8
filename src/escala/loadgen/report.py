"""Tables and PNG plots of a load run, for people looking at a scaling case."""

from dataclasses import asdict
from pathlib import Path
from typing import Any

from escala.loadgen.runner import LoadResult
from escala.loadgen.stats import percentile


def as_dict(result: LoadResult) -> dict[str, Any]:
    """The summary as plain data for `-o json`."""
    return asdict(result.summary)


def rows(result: LoadResult) -> list[tuple[str, str]]:
    s = result.summary

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} ms"

    connect = "-" if s.connect_time_s is None else f"{s.connect_time_s:.2f} s"
    # sent = accepted + each refusal + unanswered: the rows below "sent" add up to it.
    refused = [(f"  refused: {why}", str(n)) for why, n in sorted(s.refused.items())] or [
        ("  refused", "0")
    ]
    unanswered = [("  unanswered (no ack)", str(s.unanswered))] if s.unanswered else []
    return [
        ("clients connected", f"{s.connected}/{s.clients}"),
        ("connect time (all)", connect),
        ("sent", str(s.sent)),
        ("  accepted", str(s.accepted)),
        *refused,
        *unanswered,
        ("delivered", str(s.delivered)),
        ("delivered msgs/s", f"{s.delivered_per_s:,.0f}"),
        ("latency p50", ms(s.latency_p50_ms)),
        ("latency p95", ms(s.latency_p95_ms)),
        ("latency p99", ms(s.latency_p99_ms)),
        ("latency max", ms(s.latency_max_ms)),
        ("disconnects", str(s.disconnects)),
        ("errors", str(s.errors)),
    ]


def draw_png(result: LoadResult, path: Path) -> None:
    """Throughput and latency percentiles per second, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = sorted(result.timeline.seconds)
    delivered = [len(result.timeline.seconds[s]) for s in seconds]
    p50, p99 = [], []
    for s in seconds:
        values = sorted(result.timeline.seconds[s])
        p50.append(percentile(values, 50))
        p99.append(percentile(values, 99))
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    top.plot(seconds, delivered, marker=".")
    top.set_ylabel("delivered msgs/s")
    top.set_title(f"escala load: {result.summary.clients} clients")
    bottom.plot(seconds, p50, label="p50", marker=".")
    bottom.plot(seconds, p99, label="p99", marker=".")
    bottom.set_ylabel("latency (ms)")
    bottom.set_xlabel("seconds since start")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
