"""What Auto Scaling did and why: the last scaling activities of an Auto Scaling Group
(EC2 Auto Scaling) or of a scalable target (Application Auto Scaling, the Fargate case).

Both APIs describe an activity with the same members (`Description`, `Cause`,
`StartTime`, `StatusCode`...); the cause is AWS's own sentence ("At 2026-12-03T08:01:00Z
a monitor alarm TargetTracking-...-AlarmHigh-... in state ALARM triggered policy
cpu-target.web changing the desired capacity from 2 to 3."), which is what an operator
watching a scaling run wants to read.
"""

import dataclasses
from datetime import datetime
from typing import Any

from escala.cloud.aws.session import ClientFactory

# `escala describe`'s and `escala metrics`' calls (the operator's policy has them)
DAY2_ACTIONS = (
    "autoscaling:DescribeScalingActivities",
    "application-autoscaling:DescribeScalingActivities",
)


@dataclasses.dataclass(frozen=True)
class Activity:
    start: datetime | None
    end: datetime | None
    status: str
    description: str
    cause: str

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> "Activity":
        return cls(
            start=item.get("StartTime"),
            end=item.get("EndTime"),
            status=str(item.get("StatusCode", "")),
            description=str(item.get("Description", "")),
            cause=str(item.get("Cause", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "status": self.status,
            "description": self.description,
            "cause": self.cause,
        }


def _newest(items: list[dict[str, Any]], limit: int) -> list[Activity]:
    activities = [Activity.from_api(i) for i in items]
    activities.sort(key=lambda a: a.start.timestamp() if a.start else 0.0, reverse=True)
    return activities[:limit]


def group_activities(cloud: ClientFactory, group_name: str, limit: int = 5) -> list[Activity]:
    """The newest `limit` activities of an Auto Scaling Group."""
    answer = cloud.client("autoscaling").describe_scaling_activities(
        AutoScalingGroupName=group_name, MaxRecords=max(limit, 1)
    )
    return _newest(answer.get("Activities", []), limit)


def target_activities(
    cloud: ClientFactory, namespace: str, resource_id: str, dimension: str, limit: int = 5
) -> list[Activity]:
    """The newest `limit` activities of an Application Auto Scaling scalable target."""
    answer = cloud.client("application-autoscaling").describe_scaling_activities(
        ServiceNamespace=namespace,
        ResourceId=resource_id,
        ScalableDimension=dimension,
        MaxResults=max(limit, 1),
    )
    return _newest(answer.get("ScalingActivities", []), limit)
