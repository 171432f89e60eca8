"""A target-tracking scaling policy on an Auto Scaling Group: keep the group's average
CPU at the target by adding and removing instances.

Target tracking is the seed's CloudWatch alarms done by AWS: the policy creates and
owns a high and a low CPUUtilization alarm on the group (`TargetTracking-<asg>-AlarmHigh-…`
and `…-AlarmLow-…`) and sizes each step from how far the metric is from the target, so
there are no step thresholds to tune and no alarms of ours to leak. The policy goes away
with its group.
"""

import dataclasses

from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.session import ClientFactory
from escala.reconcile.task import FieldChange, Fields, Task

ASG_CPU = "ASGAverageCPUUtilization"
# The calls PutScalingPolicy makes on the caller's behalf for target tracking.
TARGET_TRACKING_ALARM_ACTIONS = (
    "cloudwatch:DescribeAlarms",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DeleteAlarms",
)


@dataclasses.dataclass(eq=False, kw_only=True)
class ScalingPolicy(Task):
    kind = "ScalingPolicy"
    iam_actions = (
        "autoscaling:DescribePolicies",
        "autoscaling:PutScalingPolicy",
        *TARGET_TRACKING_ALARM_ACTIONS,
    )

    group: AutoscalingGroup
    cpu_target: float
    warmup: int = 300

    def desired(self) -> Fields:
        return {
            "autoScalingGroup": self.group.name,
            "metric": ASG_CPU,
            "targetValue": float(self.cpu_target),
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
        metric = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        return {
            "autoScalingGroup": policy["AutoScalingGroupName"],
            "metric": metric,
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
                "PredefinedMetricSpecification": {"PredefinedMetricType": ASG_CPU},
                "TargetValue": float(self.cpu_target),
            },
        )
        self.id = answer.get("PolicyARN", self.name)  # (moto's answer has no ARN)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self.create(cloud)  # PutScalingPolicy replaces a policy of the same name
