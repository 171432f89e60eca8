"""Counting and summarising what a load run saw, merged across worker processes."""

from dataclasses import dataclass, field


@dataclass
class Counters:
    """Running totals one worker reports; sums across workers stay meaningful."""

    connected: int = 0
    sent: int = 0
    accepted: int = 0  # acked with a message id
    refused: dict[str, int] = field(default_factory=dict)  # acked with an error, by error
    delivered: int = 0
    errors: int = 0
    disconnects: int = 0

    def refuse(self, why: str) -> None:
        self.refused[why] = self.refused.get(why, 0) + 1

    def add(self, other: "Counters") -> None:
        self.connected += other.connected
        self.sent += other.sent
        self.accepted += other.accepted
        for why, n in other.refused.items():
            self.refused[why] = self.refused.get(why, 0) + n
        self.delivered += other.delivered
        self.errors += other.errors
        self.disconnects += other.disconnects


@dataclass
class Timeline:
    """Delivery latencies (ms) bucketed by whole second since the run started."""

    seconds: dict[int, list[float]] = field(default_factory=dict)

    def record(self, second: int, latency_ms: float) -> None:
        bucket = self.seconds.get(second)
        if bucket is None:
            bucket = self.seconds[second] = []
        bucket.append(latency_ms)

    def merge(self, other: "Timeline") -> None:
        for second, values in other.seconds.items():
            self.seconds.setdefault(second, []).extend(values)

    def all_latencies(self) -> list[float]:
        return [v for values in self.seconds.values() for v in values]


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The nearest-rank percentile `q` (0-100) of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil without floats drifting
    return sorted_values[int(min(rank, len(sorted_values))) - 1]


@dataclass
class Summary:
    """The final figures of a run, as printed in the table and in `-o json`."""

    clients: int
    connected: int
    connect_time_s: float | None
    sent: int
    accepted: int
    refused: dict[str, int]
    unanswered: int  # sent, but neither accepted nor refused (a server without acks)
    delivered: int
    delivered_per_s: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None
    disconnects: int
    errors: int
    duration_s: float


def summarise(
    clients: int,
    counters: Counters,
    timeline: Timeline,
    connect_time_s: float | None,
    send_window_s: float,
    duration_s: float,
) -> Summary:
    """Fold merged counters and latencies into the figures a person reads.

    Throughput is delivered messages over the time senders were sending (plus the drain),
    so the connect phase does not dilute it.
    """
    latencies = sorted(timeline.all_latencies())
    window = max(send_window_s, 1e-9)
    return Summary(
        clients=clients,
        connected=counters.connected,
        connect_time_s=connect_time_s,
        sent=counters.sent,
        accepted=counters.accepted,
        refused=dict(counters.refused),
        unanswered=counters.sent - counters.accepted - sum(counters.refused.values()),
        delivered=counters.delivered,
        delivered_per_s=counters.delivered / window if counters.delivered else 0.0,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        latency_p99_ms=percentile(latencies, 99),
        latency_max_ms=latencies[-1] if latencies else None,
        disconnects=counters.disconnects,
        errors=counters.errors,
        duration_s=duration_s,
    )
