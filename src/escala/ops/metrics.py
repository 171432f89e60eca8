"""`escala metrics`: the CloudWatch series that show a scaling case at work, by name.

Each name escala knows (`cpu`, `requests`, `connections`, ...: escala.ops.metric_catalogue)
maps, per platform, to a CloudWatch metric, its dimensions and the statistic that answers
the question: the replicas' average CPU, the load balancer's requests per period (Sum),
its response time (Average), the group's desired and in-service capacity, the chat's own
connected clients per replica and messages broadcast and delivered per second. Datapoints
are read with one GetMetricData call; what to draw is the CLI's business.
"""

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from escala.api import InstanceGroup
from escala.api.chat_service_spec import ChatService
from escala.cloud.aws.cloudwatch_metrics import MetricQuery, Series, get_metric_data
from escala.cloud.aws.load_balancer import elb_name, load_balancer_dimension
from escala.cloud.aws.session import ClientFactory, call
from escala.errors import UsageError
from escala.ops.cloud_groups import asg_name
from escala.ops.metric_catalogue import ALB, CATALOGUE, CLUSTER_CATALOGUE, Metric, Names


@dataclasses.dataclass
class Chart:
    """One series to draw: what it is, and its datapoints."""

    key: str  # the metric's escala name, plus `/<instance group>` for clusters
    title: str
    unit: str
    query: MetricQuery
    series: Series = dataclasses.field(default_factory=Series)
    note: str = ""  # why there cannot be datapoints (what they would belong to is missing)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.key,
            "title": self.title,
            "unit": self.unit,
            "cloudwatch": {
                "namespace": self.query.namespace,
                "name": self.query.name,
                "dimensions": dict(self.query.dimensions),
                "stat": self.query.stat,
            },
            "datapoints": [
                {"timestamp": t.isoformat(), "value": v}
                for t, v in zip(self.series.timestamps, self.series.values, strict=True)
            ],
            **({"note": self.note} if self.note else {}),
        }


@dataclasses.dataclass
class Window:
    """The time range and period asked for, checked."""

    start: datetime
    end: datetime
    period: int


_DURATION = re.compile(r"(\d+)(d|h|m|s)", re.ASCII)  # 0-9, not "٣"
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# CloudWatch keeps 1-minute datapoints 15 days, 5-minute ones 63 days, hourly 455 days.
RETENTION = timedelta(days=455)


def parse_since(text: str, now: datetime) -> datetime:
    """`--since`: a duration back from now (`90m`, `3h`, `2d`, `1h30m`) or an ISO 8601
    time (`2026-12-03T07:00:00Z`); UsageError when unparsable or in the future."""
    parts = _DURATION.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        since = now - timedelta(seconds=sum(int(n) * _SECONDS[u] for n, u in parts))
    else:
        try:
            since = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"--since {text!r}: not a duration or a time; write e.g. 3h, 90m, 2d or "
                "2026-12-03T07:00:00Z"
            ) from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    if since >= now:
        raise UsageError(
            f"--since {text!r}: {since.isoformat()} is not in the past (now is "
            f"{now.isoformat(timespec='seconds')}); give a start before now, e.g. 3h"
        )
    if now - since > RETENTION:
        raise UsageError(f"--since {text!r}: CloudWatch keeps metrics 455 days at most")
    return since


def window(since: str, period: int, now: datetime | None = None) -> Window:
    """The range `--since` .. now at `--period` seconds, widened to whole periods, or
    UsageError naming the flag."""
    now = now or datetime.now(UTC)
    if period < 60 or period % 60:
        raise UsageError(
            f"--period {period}: must be a multiple of 60 seconds (60, 300, 3600...), the "
            "periods CloudWatch keeps standard-resolution metrics at"
        )
    start = parse_since(since, now)
    return Window(_aligned(start, period), _aligned(now, period, up=True), period)


def _aligned(moment: datetime, period: int, up: bool = False) -> datetime:
    """`moment` on a multiple of `period` since the epoch (down, or up with `up`).

    CloudWatch buckets datapoints by period from StartTime and leaves out what is at or
    after EndTime, to the second: an unaligned window draws buckets astride the
    minutes and drops what arrived in the last second, the newest value a user looks
    for. Aligned, each bucket is a whole minute (or hour) and the current one is in."""
    seconds = moment.timestamp()
    edge = (-(-seconds // period) if up else seconds // period) * period
    return datetime.fromtimestamp(edge, UTC)


def pick(known: dict[str, Metric], wanted: list[str], subject: str) -> list[str]:
    """The metric names asked for (all when none), or UsageError naming unknown ones."""
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise UsageError(
            f"--metric: {', '.join(unknown)} is not a metric escala knows for {subject}; "
            f"use {', '.join(known)}"
        )
    return wanted or list(known)


def _query_id(key: str, index: int) -> str:
    return f"m{index}_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


def _read(clients: ClientFactory, charts: list[Chart], span: Window, what: str) -> list[Chart]:
    queries = [c.query for c in charts if not c.note]
    found = call(
        f"reading the CloudWatch metrics of {what}",
        lambda: get_metric_data(clients, queries, span.start, span.end, span.period),
    )
    for chart in charts:
        chart.series = found.get(chart.query.id, chart.series)
    return charts


def chat_service_metrics(
    service: ChatService, clients: ClientFactory, wanted: list[str], span: Window
) -> list[Chart]:
    """The asked-for series of a chat service (all its platform's when none)."""
    known = CATALOGUE[service.spec.platform]
    keys = pick(known, wanted, f"chat service {service.name} ({service.spec.platform.value})")
    lb = elb_name("chat", service.name)
    lb_dimension = (
        call(f"reading load balancer {lb}", lambda: load_balancer_dimension(clients, lb))
        if any(known[k].namespace == ALB for k in keys)
        else None
    )
    names = Names(service.name, f"chat.{service.name}", lb, lb_dimension)
    charts = []
    for i, key in enumerate(keys):
        metric = known[key]
        query = MetricQuery(_query_id(key, i), metric.namespace, metric.name,
                            metric.dimensions(names), metric.stat)  # fmt: skip
        chart = Chart(key, metric.title, metric.unit, query)
        if metric.namespace == ALB and lb_dimension is None:
            chart.note = f"load balancer {lb} does not exist (`escala update chatservice --yes`)"
        charts.append(chart)
    return _read(clients, charts, span, f"chat service {service.name}")


def cluster_metrics(
    cluster_name: str,
    groups: list[InstanceGroup],
    clients: ClientFactory,
    wanted: list[str],
    span: Window,
) -> list[Chart]:
    """The asked-for series of each instance group's Auto Scaling Group."""
    keys = pick(CLUSTER_CATALOGUE, wanted, "a cluster")
    charts = []
    for group in groups:
        names = Names(cluster_name, asg_name(group.name, cluster_name), "", None)
        for key in keys:
            metric = CLUSTER_CATALOGUE[key]
            query = MetricQuery(_query_id(f"{key}_{group.name}", len(charts)), metric.namespace,
                                metric.name, metric.dimensions(names), metric.stat)  # fmt: skip
            charts.append(
                Chart(f"{key}/{group.name}", f"{metric.title}, {group.name}", metric.unit, query)
            )
    return _read(clients, charts, span, f"cluster {cluster_name}")
