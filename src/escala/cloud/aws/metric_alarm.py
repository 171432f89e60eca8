"""The CloudWatch alarms behind target-tracking policies, read for `escala describe`.

AWS creates and deletes them with their policy; escala only reads their state (OK,
ALARM, INSUFFICIENT_DATA) and AWS's reason for it, the two things that say whether a
scale-out is coming.
"""

import dataclasses
from typing import Any

from escala.cloud.aws.session import ClientFactory

# `escala describe`'s and `escala metrics`' calls (the operator's policy has them)
DAY2_ACTIONS = ("cloudwatch:DescribeAlarms",)


@dataclasses.dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    reason: str
    metric: str
    threshold: float | None
    comparison: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def read_alarms(cloud: ClientFactory, names: list[str]) -> list[AlarmState]:
    """The named metric alarms' states, in the order given (missing ones left out)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        answer = cloud.client("cloudwatch").describe_alarms(AlarmNames=names[start : start + 100])
        found.update({a["AlarmName"]: a for a in answer.get("MetricAlarms", [])})
    return [
        AlarmState(
            name=name,
            state=str(alarm.get("StateValue", "")),
            reason=str(alarm.get("StateReason", "")),
            metric=f"{alarm.get('Namespace', '')} {alarm.get('MetricName', '')}".strip(),
            threshold=alarm.get("Threshold"),
            comparison=str(alarm.get("ComparisonOperator", "")),
        )
        for name in names
        if (alarm := found.get(name)) is not None
    ]
