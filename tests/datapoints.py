"""CloudWatch datapoints for the `escala metrics` tests: written with PutMetricData as AWS
(or the chat) would have published them, and read back out of the command's `-o json`."""

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3


def put_minutes(namespace: str, name: str, dimensions: dict[str, str], values: list[float]) -> None:
    """One datapoint a minute, on whole minutes, the last one a minute ago."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    boto3.client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Timestamp": now - timedelta(minutes=len(values) - i),
                "Value": value,
            }
            for i, value in enumerate(values)
        ],
    )


def shown_values(document: dict[str, Any], metric: str) -> list[float]:
    """The values of one series of a `metrics ... -o json` document, oldest first."""
    (found,) = [m for m in document["metrics"] if m["metric"] == metric]
    return [d["value"] for d in found["datapoints"]]
