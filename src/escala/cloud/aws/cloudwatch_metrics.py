"""Reading CloudWatch metrics: one GetMetricData call (paged) for every series a chart
needs, each a metric + dimensions + statistic at one period."""

import dataclasses
from datetime import datetime
from typing import Any

from escala.cloud.aws.session import ClientFactory

# `escala describe`'s and `escala metrics`' calls (the operator's policy has them)
DAY2_ACTIONS = ("cloudwatch:GetMetricData",)
# GetMetricData takes at most 500 queries a call.
MAX_QUERIES = 500


@dataclasses.dataclass(frozen=True)
class MetricQuery:
    """One series: `id` must be unique in the call and match ^[a-z][a-zA-Z0-9_]*$."""

    id: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str

    def request(self, period: int) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                },
                "Period": period,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


@dataclasses.dataclass
class Series:
    """Datapoints oldest first."""

    timestamps: list[datetime] = dataclasses.field(default_factory=list)
    values: list[float] = dataclasses.field(default_factory=list)


def get_metric_data(
    cloud: ClientFactory,
    queries: list[MetricQuery],
    start: datetime,
    end: datetime,
    period: int,
) -> dict[str, Series]:
    """Query id -> its datapoints between `start` and `end` (every id present, maybe empty)."""
    out = {q.id: Series() for q in queries}
    client = cloud.client("cloudwatch")
    for first in range(0, len(queries), MAX_QUERIES):
        batch = [q.request(period) for q in queries[first : first + MAX_QUERIES]]
        pages = client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=batch, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                series = out[result["Id"]]
                series.timestamps.extend(result.get("Timestamps", []))
                series.values.extend(float(v) for v in result.get("Values", []))
    for series in out.values():  # pages may interleave; keep each series in time order
        pairs = sorted(zip(series.timestamps, series.values, strict=True))
        series.timestamps = [t for t, _ in pairs]
        series.values = [v for _, v in pairs]
    return out
