"""Application Auto Scaling for a chat service's ECS service: the scalable target (the
service's desired count, between min and max) and its target-tracking policy on the
service's average CPU.

Application Auto Scaling keeps no tags that moto serves, and a target belongs to the
service it scales: `discover` finds the targets of the services in the ECS clusters the
owner's tags claim. Deregistering a target deletes its policies and their alarms.
"""

import dataclasses

from escala.cloud.aws.ecs_cluster import owned_clusters
from escala.cloud.aws.ecs_service import EcsService
from escala.cloud.aws.scaling_policy import TARGET_TRACKING_ALARM_ACTIONS
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
        prefixes = tuple(
            f"service/{c['clusterName']}/" for c in owned_clusters(cloud, cluster_name)
        )
        if not prefixes:
            return []
        client = cloud.client("application-autoscaling")
        pages = client.get_paginator("describe_scalable_targets").paginate(
            ServiceNamespace=NAMESPACE
        )
        return [
            Owned(cls.kind, t["ResourceId"], t["ResourceId"], cls.delete_id)
            for page in pages
            for t in page["ScalableTargets"]
            if t["ResourceId"].startswith(prefixes) and t["ScalableDimension"] == DIMENSION
        ]


@dataclasses.dataclass(eq=False, kw_only=True)
class ServiceScalingPolicy(Task):
    """Target tracking on the service's average CPU; goes with its scalable target."""

    kind = "ServiceScalingPolicy"
    iam_actions = (
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:PutScalingPolicy",
        *TARGET_TRACKING_ALARM_ACTIONS,
    )

    target: ScalableTarget
    cpu_target: float
    scale_in_cooldown: int = 300
    scale_out_cooldown: int = 60

    def desired(self) -> Fields:
        return {
            "resource": self.target.resource_id,
            "metric": ECS_CPU,
            "targetValue": float(self.cpu_target),
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
        metric = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        return {
            "resource": policy["ResourceId"],
            "metric": metric,
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
                "PredefinedMetricSpecification": {"PredefinedMetricType": ECS_CPU},
                "TargetValue": float(self.cpu_target),
                "ScaleInCooldown": self.scale_in_cooldown,
                "ScaleOutCooldown": self.scale_out_cooldown,
            },
        )
        self.id = answer.get("PolicyARN", self.name)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self.create(cloud)  # PutScalingPolicy replaces a policy of the same name
