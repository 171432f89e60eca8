"""Application Auto Scaling for a chat service's ECS service: the scalable target (the
service's desired count, between min and max) and its target-tracking policy on the
service's average CPU.

Application Auto Scaling keeps no tags that moto serves, and a target belongs to the
service it scales: `discover` finds the targets of the services in the ECS clusters the
owner's tags claim, and their policies. AWS documents that deregistering a target deletes
its policies and their alarms; moto keeps both, so `delete chatservice` deletes each
policy first (DeleteScalingPolicy, which takes its alarms along in both), then the target.
"""

import dataclasses
from typing import Any

from escala.cloud.aws.ecs_cluster import owned_clusters
from escala.cloud.aws.ecs_service import EcsService
from escala.cloud.aws.scaling_policy import (
    TARGET_TRACKING_ALARM_ACTIONS,
    PolicyState,
    TrackedMetric,
)
from escala.cloud.aws.session import ClientFactory
from escala.reconcile.task import FieldChange, Fields, Owned, Task

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
ECS_CPU = "ECSServiceAverageCPUUtilization"


@dataclasses.dataclass(eq=False, kw_only=True)
class ScalableTarget(Task):
    kind = "ScalableTarget"
    iam_actions = (
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DeregisterScalableTarget",
        "ecs:DescribeServices",
        "ecs:UpdateService",
        "iam:CreateServiceLinkedRole",
    )

    service: EcsService
    min_capacity: int
    max_capacity: int

    @property
    def resource_id(self) -> str:
        return f"service/{self.service.cluster.name}/{self.service.name}"

    def desired(self) -> Fields:
        return {
            "resource": self.resource_id,
            "minCapacity": self.min_capacity,
            "maxCapacity": self.max_capacity,
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        targets = cloud.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace=NAMESPACE, ResourceIds=[self.resource_id], ScalableDimension=DIMENSION
        )["ScalableTargets"]
        if not targets:
            return None
        self.id = self.resource_id
        return {
            "resource": targets[0]["ResourceId"],
            "minCapacity": targets[0]["MinCapacity"],
            "maxCapacity": targets[0]["MaxCapacity"],
        }

    def create(self, cloud: ClientFactory) -> None:
        cloud.client("application-autoscaling").register_scalable_target(
            ServiceNamespace=NAMESPACE,
            ResourceId=self.resource_id,
            ScalableDimension=DIMENSION,
            MinCapacity=self.min_capacity,
            MaxCapacity=self.max_capacity,
        )
        self.id = self.resource_id

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self.create(cloud)  # RegisterScalableTarget updates a registered target

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("application-autoscaling").deregister_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=DIMENSION
        )

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        return [
            Owned(cls.kind, resource_id, resource_id, cls.delete_id)
            for resource_id in owned_targets(cloud, cluster_name)
        ]


def owned_targets(cloud: ClientFactory, owner: str) -> list[str]:
    """Resource IDs of the scalable targets of the services in `owner`'s ECS clusters."""
    prefixes = tuple(f"service/{c['clusterName']}/" for c in owned_clusters(cloud, owner))
    if not prefixes:
        return []
    client = cloud.client("application-autoscaling")
    pages = client.get_paginator("describe_scalable_targets").paginate(ServiceNamespace=NAMESPACE)
    return [
        t["ResourceId"]
        for page in pages
        for t in page["ScalableTargets"]
        if t["ResourceId"].startswith(prefixes) and t["ScalableDimension"] == DIMENSION
    ]


def read_target(cloud: ClientFactory, resource_id: str) -> tuple[int, int] | None:
    """(min, max) capacity of the scalable target, or None when it is not registered."""
    targets = cloud.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[resource_id], ScalableDimension=DIMENSION
    )["ScalableTargets"]
    return (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else None


def _policies(cloud: ClientFactory, resource_id: str) -> list[dict[str, Any]]:
    pages = cloud.client("application-autoscaling").get_paginator("describe_scaling_policies")
    return [
        p
        for page in pages.paginate(ServiceNamespace=NAMESPACE, ResourceId=resource_id)
        for p in page["ScalingPolicies"]
    ]


def service_policies(cloud: ClientFactory, resource_id: str) -> list[PolicyState]:
    """The scaling policies of the scalable target, by name."""
    found = [
        PolicyState.from_api(p, "TargetTrackingScalingPolicyConfiguration")
        for p in _policies(cloud, resource_id)
    ]
    return sorted(found, key=lambda p: p.name)


@dataclasses.dataclass(eq=False, kw_only=True)
class ServiceScalingPolicy(Task):
    """Target tracking on the service's average CPU (or another metric); goes with its
    scalable target."""

    kind = "ServiceScalingPolicy"
    iam_actions = (
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeleteScalingPolicy",
        *TARGET_TRACKING_ALARM_ACTIONS,
    )

    target: ScalableTarget
    target_value: float
    metric: TrackedMetric
    scale_in_cooldown: int = 300
    scale_out_cooldown: int = 60

    def desired(self) -> Fields:
        return {
            "resource": self.target.resource_id,
            "metric": self.metric.label,
            "targetValue": float(self.target_value),
            "cooldowns": f"in {self.scale_in_cooldown}s, out {self.scale_out_cooldown}s",
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.target.id is None:
            return None
        policies = cloud.client("application-autoscaling").describe_scaling_policies(
            ServiceNamespace=NAMESPACE, ResourceId=self.target.resource_id, PolicyNames=[self.name]
        )["ScalingPolicies"]
        if not policies:
            return None
        policy = policies[0]
        self.id = policy["PolicyARN"]
        config = policy.get("TargetTrackingScalingPolicyConfiguration", {})
        return {
            "resource": policy["ResourceId"],
            "metric": TrackedMetric.from_configuration(config).label,
            "targetValue": float(config.get("TargetValue", 0)),
            "cooldowns": f"in {config.get('ScaleInCooldown')}s, out "
            f"{config.get('ScaleOutCooldown')}s",
        }

    def create(self, cloud: ClientFactory) -> None:
        answer = cloud.client("application-autoscaling").put_scaling_policy(
            PolicyName=self.name,
            ServiceNamespace=NAMESPACE,
            ResourceId=self.target.resource_id,
            ScalableDimension=DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                **self.metric.specification(),
                "TargetValue": float(self.target_value),
                "ScaleInCooldown": self.scale_in_cooldown,
                "ScaleOutCooldown": self.scale_out_cooldown,
            },
        )
        self.id = answer.get("PolicyARN", self.name)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self.create(cloud)  # PutScalingPolicy replaces a policy of the same name

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        """`resource_id` is `<scalable target's resource ID>|<policy name>`."""
        target, name = resource_id.rsplit("|", 1)
        cloud.client("application-autoscaling").delete_scaling_policy(
            PolicyName=name, ServiceNamespace=NAMESPACE, ResourceId=target,
            ScalableDimension=DIMENSION,
        )  # fmt: skip

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        """The policies of the owner's scalable targets; each goes before its target."""
        return [
            Owned(
                cls.kind,
                p["PolicyName"],
                f"{target}|{p['PolicyName']}",
                cls.delete_id,
                blocks=[target],
            )
            for target in owned_targets(cloud, cluster_name)
            for p in _policies(cloud, target)
        ]
