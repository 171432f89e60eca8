"""A target-tracking scaling policy on an Auto Scaling Group: keep a metric (the group's
average CPU, or the chat's connected clients per replica) at the target by adding and
removing instances.

Target tracking is the seed's CloudWatch alarms done by AWS: the policy creates and
owns a high and a low alarm on the metric (`TargetTracking-<asg>-AlarmHigh-…`
and `…-AlarmLow-…`) and sizes each step from how far the metric is from the target, so
there are no step thresholds to tune. The policy goes away with its group; its alarms
should too, and `escala.cloud.aws.metric_alarm` deletes any that stay behind.
"""

import dataclasses
from typing import Any

from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.session import ClientFactory
from escala.reconcile.task import FieldChange, Fields, Owned, Task

ASG_CPU = "ASGAverageCPUUtilization"
# The calls PutScalingPolicy makes on the caller's behalf for target tracking.
TARGET_TRACKING_ALARM_ACTIONS = (
    "cloudwatch:DescribeAlarms",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DeleteAlarms",
)


@dataclasses.dataclass(frozen=True)
class TrackedMetric:
    """What a target-tracking policy keeps at its target: a metric AWS predefines
    (`predefined`), or a customized one (namespace, name, dimensions, statistic), which
    must be an average per replica for target tracking to size the group right."""

    predefined: str | None = None
    namespace: str = ""
    name: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()
    statistic: str = "Average"

    @property
    def label(self) -> str:
        """How plans show it: `ASGAverageCPUUtilization`, `Escala/Chat ConnectedClients
        (Service=chat, Average)`."""
        if self.predefined:
            return self.predefined
        dims = ", ".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace} {self.name} ({dims}, {self.statistic})"

    def specification(self) -> dict[str, Any]:
        """The metric part of a TargetTrackingConfiguration (both Auto Scaling APIs)."""
        if self.predefined:
            return {"PredefinedMetricSpecification": {"PredefinedMetricType": self.predefined}}
        return {
            "CustomizedMetricSpecification": {
                "Namespace": self.namespace,
                "MetricName": self.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                "Statistic": self.statistic,
            }
        }

    @classmethod
    def from_configuration(cls, config: dict[str, Any]) -> "TrackedMetric":
        """The metric a described policy's configuration tracks."""
        predefined = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        if predefined:
            return cls(predefined=predefined)
        custom = config.get("CustomizedMetricSpecification", {})
        return cls(
            namespace=custom.get("Namespace", ""),
            name=custom.get("MetricName", ""),
            dimensions=tuple((d["Name"], d["Value"]) for d in custom.get("Dimensions", [])),
            statistic=custom.get("Statistic", ""),
        )


@dataclasses.dataclass(frozen=True)
class PolicyState:
    """A live target-tracking policy of either Auto Scaling API, for `escala describe`."""

    name: str
    metric: str
    target: float | None
    alarms: list[str]

    @classmethod
    def from_api(cls, policy: dict[str, Any], config_key: str) -> "PolicyState":
        config = policy.get(config_key) or {}
        return cls(
            name=policy["PolicyName"],
            metric=TrackedMetric.from_configuration(config).label if config else "",
            target=config.get("TargetValue"),
            alarms=[a["AlarmName"] for a in policy.get("Alarms", [])],
        )


def group_policies(cloud: ClientFactory, group_name: str) -> list[PolicyState]:
    """The scaling policies of an Auto Scaling Group, by name."""
    pages = cloud.client("autoscaling").get_paginator("describe_policies")
    return sorted(
        (
            PolicyState.from_api(p, "TargetTrackingConfiguration")
            for page in pages.paginate(AutoScalingGroupName=group_name)
            for p in page["ScalingPolicies"]
        ),
        key=lambda p: p.name,
    )


@dataclasses.dataclass(eq=False, kw_only=True)
class ScalingPolicy(Task):
    kind = "ScalingPolicy"
    iam_actions = (
        "autoscaling:DescribePolicies",
        "autoscaling:PutScalingPolicy",
        "autoscaling:DeletePolicy",
        *TARGET_TRACKING_ALARM_ACTIONS,
    )

    group: AutoscalingGroup
    target_value: float
    metric: TrackedMetric
    warmup: int = 300

    def desired(self) -> Fields:
        return {
            "autoScalingGroup": self.group.name,
            "metric": self.metric.label,
            "targetValue": float(self.target_value),
            "warmup": self.warmup,
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.group.id is None:
            return None
        policies = cloud.client("autoscaling").describe_policies(
            AutoScalingGroupName=self.group.name, PolicyNames=[self.name]
        )["ScalingPolicies"]
        if not policies:
            return None
        policy = policies[0]
        self.id = policy["PolicyARN"]
        config = policy.get("TargetTrackingConfiguration", {})
        return {
            "autoScalingGroup": policy["AutoScalingGroupName"],
            "metric": TrackedMetric.from_configuration(config).label,
            "targetValue": float(config.get("TargetValue", 0)),
            "warmup": policy.get("EstimatedInstanceWarmup"),
        }

    def create(self, cloud: ClientFactory) -> None:
        answer = cloud.client("autoscaling").put_scaling_policy(
            AutoScalingGroupName=self.group.name,
            PolicyName=self.name,
            PolicyType="TargetTrackingScaling",
            EstimatedInstanceWarmup=self.warmup,
            TargetTrackingConfiguration={
                **self.metric.specification(),
                "TargetValue": float(self.target_value),
            },
        )
        self.id = answer.get("PolicyARN", self.name)  # (moto's answer has no ARN)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self.create(cloud)  # PutScalingPolicy replaces a policy of the same name

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        """`resource_id` is `<group name>|<policy name>`."""
        group, name = resource_id.rsplit("|", 1)
        cloud.client("autoscaling").delete_policy(AutoScalingGroupName=group, PolicyName=name)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        """The policies of the owner's groups: `update` deletes those no task wants (a
        signal dropped from `spec.scaleOn`); deleting a group takes its policies along."""
        return [
            Owned(cls.kind, p.name, f"{group.id}|{p.name}", cls.delete_id)
            for group in AutoscalingGroup.discover(cloud, cluster_name)
            for p in group_policies(cloud, group.id)
        ]
