"""The Auto Scaling Group of one instance group, on an explicit launch-template version.

Masters get one group per zone (min = max = 1) so a lost master comes back in its own
zone, next to its etcd volumes. Every group publishes its group metrics to CloudWatch
each minute (GroupDesiredCapacity, GroupInServiceInstances, ...: off by default in AWS,
and free), so `escala metrics` can draw capacity beside the load.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws.launch_template import LaunchTemplate
from escala.cloud.aws.load_balancer import TargetGroup
from escala.cloud.aws.session import ClientFactory, call
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.tags import OWNED, ownership_tag
from escala.reconcile.retry import error_code
from escala.reconcile.task import FieldChange, Fields, Owned, Task, ids

# The only granularity Auto Scaling offers, and the group metrics escala turns on (named,
# not left out: an empty list means "all" to AWS but "none" to moto).
METRICS_GRANULARITY = "1Minute"
GROUP_METRICS = (
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
)


def _collection(enabled: list[dict[str, str]]) -> str | None:
    """The granularity when every metric of GROUP_METRICS is collected, else None."""
    names = {m["Metric"] for m in enabled}
    if not set(GROUP_METRICS) <= names:
        return None
    return next(m.get("Granularity") for m in enabled if m["Metric"] in GROUP_METRICS)


@dataclasses.dataclass(frozen=True)
class InstancesMix:
    """A mixed instances policy: the launch template with its instance type overridden by
    each of `instance_types`, On-Demand for `on_demand_base` instances and
    `on_demand_above_base` percent of the rest, Spot for the remainder."""

    instance_types: tuple[str, ...]
    on_demand_base: int
    on_demand_above_base: int
    spot_allocation_strategy: str

    def describe(self) -> str:
        """One comparable line, the same from the spec and from AWS."""
        return (
            f"{','.join(self.instance_types)}; on-demand base {self.on_demand_base}, "
            f"{self.on_demand_above_base}% above; spot {self.spot_allocation_strategy}"
        )

    @classmethod
    def from_aws(cls, policy: dict[str, Any]) -> "InstancesMix":
        overrides = policy.get("LaunchTemplate", {}).get("Overrides", [])
        distribution = policy.get("InstancesDistribution", {})
        return cls(
            tuple(o["InstanceType"] for o in overrides if "InstanceType" in o),
            int(distribution.get("OnDemandBaseCapacity", 0)),
            int(distribution.get("OnDemandPercentageAboveBaseCapacity", 100)),
            str(distribution.get("SpotAllocationStrategy", "lowest-price")),
        )


@dataclasses.dataclass(eq=False, kw_only=True)
class AutoscalingGroup(Task):
    kind = "AutoscalingGroup"
    iam_actions = (
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:CreateAutoScalingGroup",
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:AttachLoadBalancerTargetGroups",
        "autoscaling:DetachLoadBalancerTargetGroups",
        "autoscaling:DeleteAutoScalingGroup",
        "autoscaling:EnableMetricsCollection",
        "ec2:RunInstances",
        "ec2:CreateTags",
        "iam:CreateServiceLinkedRole",
    )

    launch_template: LaunchTemplate
    min_size: int
    max_size: int
    subnets: list[Subnet]
    target_groups: list[TargetGroup] = dataclasses.field(default_factory=list)
    # ELB: an instance the load balancer finds unhealthy is replaced, not only one whose
    # EC2 status checks fail (the chat ASG); the grace covers its boot.
    elb_health_check_grace: int | None = None
    mix: InstancesMix | None = None  # node groups only (validation refuses it on masters)

    def desired(self) -> Fields:
        desired: Fields = {
            "minSize": self.min_size,
            "maxSize": self.max_size,
            "subnets": sorted(s.name for s in self.subnets),
            "launchTemplateVersion": self.launch_template.version,
            "targetGroups": sorted(t.name for t in self.target_groups),
            "metricsCollection": METRICS_GRANULARITY,
        }
        if self.elb_health_check_grace is not None:
            desired["healthCheck"] = f"ELB, grace {self.elb_health_check_grace}s"
        if self.mix is not None:
            desired["mixedInstances"] = self.mix.describe()
        return desired

    def diff(self, actual: Mapping[str, Any] | None) -> list[FieldChange]:
        """As every task's, plus a mixed instances policy the spec no longer has."""
        changes = super().diff(actual)
        if self.mix is None and actual is not None and actual.get("mixedInstances"):
            changes.append(FieldChange("mixedInstances", actual["mixedInstances"], None))
        return changes

    def find(self, cloud: ClientFactory) -> Fields | None:
        groups = cloud.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.name]
        )["AutoScalingGroups"]
        if not groups:
            return None
        group = groups[0]
        self.id = group["AutoScalingGroupARN"]
        subnet_names = {s.id: s.name for s in self.subnets}
        target_names = {t.id: t.name for t in self.target_groups}
        zone_ids = [s for s in group.get("VPCZoneIdentifier", "").split(",") if s]
        mixed = group.get("MixedInstancesPolicy")
        template = (
            mixed["LaunchTemplate"]["LaunchTemplateSpecification"]
            if mixed
            else group.get("LaunchTemplate", {})
        )
        version = template.get("Version")
        targets = group.get("TargetGroupARNs", [])
        found: Fields = {
            "minSize": group["MinSize"],
            "maxSize": group["MaxSize"],
            "subnets": sorted(subnet_names.get(s, s) for s in zone_ids),
            "launchTemplateVersion": int(version) if version and version.isdigit() else version,
            "targetGroups": sorted(target_names.get(a, a) for a in targets),
            "metricsCollection": _collection(group.get("EnabledMetrics", [])),
            "healthCheck": f"{group.get('HealthCheckType')}, grace "
            f"{group.get('HealthCheckGracePeriod')}s",
        }
        if mixed:
            found["mixedInstances"] = InstancesMix.from_aws(mixed).describe()
        return found

    def _tags(self) -> list[dict[str, object]]:
        return [
            {
                "ResourceId": self.name,
                "ResourceType": "auto-scaling-group",
                "Key": k,
                "Value": v,
                "PropagateAtLaunch": True,
            }
            for k, v in sorted(self.tags.items())
        ]

    def _launch_template(self) -> dict[str, object]:
        """The template argument: LaunchTemplate, or a MixedInstancesPolicy around it."""
        template = {
            "LaunchTemplateId": str(self.launch_template.id),
            "Version": str(self.launch_template.version),
        }
        if self.mix is None:
            return {"LaunchTemplate": template}
        return {
            "MixedInstancesPolicy": {
                "LaunchTemplate": {
                    "LaunchTemplateSpecification": template,
                    "Overrides": [{"InstanceType": t} for t in self.mix.instance_types],
                },
                "InstancesDistribution": {
                    "OnDemandBaseCapacity": self.mix.on_demand_base,
                    "OnDemandPercentageAboveBaseCapacity": self.mix.on_demand_above_base,
                    "SpotAllocationStrategy": self.mix.spot_allocation_strategy,
                },
            }
        }

    def _health_check(self) -> dict[str, object]:
        if self.elb_health_check_grace is None:
            return {}
        return {"HealthCheckType": "ELB", "HealthCheckGracePeriod": self.elb_health_check_grace}

    def create(self, cloud: ClientFactory) -> None:
        cloud.client("autoscaling").create_auto_scaling_group(
            AutoScalingGroupName=self.name,
            **self._launch_template(),
            MinSize=self.min_size,
            MaxSize=self.max_size,
            DesiredCapacity=self.min_size,
            VPCZoneIdentifier=",".join(ids(list(self.subnets)) or []),
            TargetGroupARNs=ids(list(self.target_groups)) or [],
            Tags=self._tags(),
            **self._health_check(),
        )
        self._enable_metrics(cloud)
        self.find(cloud)

    def _enable_metrics(self, cloud: ClientFactory) -> None:
        cloud.client("autoscaling").enable_metrics_collection(
            AutoScalingGroupName=self.name,
            Metrics=list(GROUP_METRICS),
            Granularity=METRICS_GRANULARITY,
        )

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        autoscaling = cloud.client("autoscaling")
        fields = {c.field for c in changes}
        if "metricsCollection" in fields:
            self._enable_metrics(cloud)
        if fields - {"targetGroups", "metricsCollection"}:
            autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=self.name,
                **self._launch_template(),
                MinSize=self.min_size,
                MaxSize=self.max_size,
                VPCZoneIdentifier=",".join(ids(list(self.subnets)) or []),
                **self._health_check(),
            )
        for change in changes:
            if change.field == "targetGroups":
                wanted = {t.name: t.id for t in self.target_groups}
                missing = [str(wanted[n]) for n in change.new if n not in (change.old or [])]
                extra = [a for a in change.old or [] if a not in wanted]
                if missing:
                    autoscaling.attach_load_balancer_target_groups(
                        AutoScalingGroupName=self.name, TargetGroupARNs=missing
                    )
                if extra:
                    autoscaling.detach_load_balancer_target_groups(
                        AutoScalingGroupName=self.name, TargetGroupARNs=extra
                    )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        """A group already gone is deleted: Auto Scaling says so with a ValidationError
        ("AutoScalingGroup name not found"), not a NotFound code, e.g. to a delete that
        botocore resent after its first answer was lost (benchmarks/faults.py)."""
        try:
            cloud.client("autoscaling").delete_auto_scaling_group(
                AutoScalingGroupName=resource_id, ForceDelete=True
            )
        except ClientError as e:
            message = str(e.response.get("Error", {}).get("Message", ""))
            if error_code(e) != "ValidationError" or "name not found" not in message:
                raise

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        paginator = cloud.client("autoscaling").get_paginator("describe_auto_scaling_groups")
        filters = [{"Name": f"tag:{ownership_tag(cluster_name)}", "Values": [OWNED]}]
        found = []
        for page in paginator.paginate(Filters=filters):
            for group in page["AutoScalingGroups"]:
                blocks = [s for s in group.get("VPCZoneIdentifier", "").split(",") if s]
                blocks += group.get("TargetGroupARNs", [])
                if "LaunchTemplate" in group:
                    blocks.append(group["LaunchTemplate"]["LaunchTemplateId"])
                name = group["AutoScalingGroupName"]
                found.append(Owned(cls.kind, name, name, cls.delete_id, blocks=blocks))
        return found


# The day-2 calls of validate and rolling-update (escala.ops.cloud_groups): part of the
# operator's least-privilege policy (escala.cloud.aws.registry).
DAY2_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
    "autoscaling:DetachInstances",
)


def describe_groups(aws: ClientFactory, names: list[str], doing: str) -> dict[str, dict[str, Any]]:
    """The named Auto Scaling Groups as AWS describes them, by name (missing ones absent)."""
    paginator = aws.client("autoscaling").get_paginator("describe_auto_scaling_groups")
    pages = call(doing, lambda: list(paginator.paginate(AutoScalingGroupNames=names)))
    return {a["AutoScalingGroupName"]: a for page in pages for a in page["AutoScalingGroups"]}


def terminate_in_group(aws: ClientFactory, instance_id: str) -> None:
    """Terminate through the ASG, keeping its desired count: it launches a replacement."""
    call(
        f"terminating instance {instance_id}",
        aws.client("autoscaling").terminate_instance_in_auto_scaling_group,
        InstanceId=instance_id,
        ShouldDecrementDesiredCapacity=False,
    )


def detach_instances(aws: ClientFactory, group_name: str, instance_ids: list[str]) -> None:
    """Take instances out of the group, keeping its desired count: it launches replacements."""
    call(
        f"detaching instances {', '.join(instance_ids)}",
        aws.client("autoscaling").detach_instances,
        AutoScalingGroupName=group_name,
        InstanceIds=instance_ids,
        ShouldDecrementDesiredCapacity=False,
    )


@dataclasses.dataclass(frozen=True)
class GroupCapacity:
    """What an Auto Scaling Group holds right now (for `escala describe`)."""

    name: str
    min: int
    desired: int
    max: int
    in_service: int
    pending: int


def read_capacity(cloud: ClientFactory, names: list[str]) -> dict[str, GroupCapacity]:
    """The named groups' sizes and instance counts; groups that do not exist are left out.
    Pending counts `Pending` and `Pending:Wait`/`Pending:Proceed` (lifecycle hooks)."""
    paginator = cloud.client("autoscaling").get_paginator("describe_auto_scaling_groups")
    found = {}
    for page in paginator.paginate(AutoScalingGroupNames=names):
        for group in page["AutoScalingGroups"]:
            states = [i["LifecycleState"] for i in group.get("Instances", [])]
            found[group["AutoScalingGroupName"]] = GroupCapacity(
                name=group["AutoScalingGroupName"],
                min=group["MinSize"],
                desired=group["DesiredCapacity"],
                max=group["MaxSize"],
                in_service=states.count("InService"),
                pending=sum(1 for s in states if s.startswith("Pending")),
            )
    return found


def group_exists(aws: ClientFactory, name: str) -> bool:
    """Whether the Auto Scaling Group is still there (ForceDelete is not instant)."""
    return name in describe_groups(aws, [name], f"reading Auto Scaling Group {name}")
