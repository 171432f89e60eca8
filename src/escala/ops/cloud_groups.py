"""What AWS says about a cluster's instance groups: their ASGs and instances.

Validate and rolling-update both start here. The naming contract: an instance group's
Auto Scaling Group and launch template are both named `<ig>.<cluster>`, and the ASG
points at an explicit launch-template version. An instance NeedsUpdate when the version
it was launched from differs from its ASG's. That version is read from the tag AWS puts
on every instance launched from a template (`aws:ec2launchtemplate:version`), falling
back to what the ASG reports for the instance; both survive an interrupted rolling
update, so the state of one is always derivable from AWS alone.

(moto, our test AWS, tags ASG-launched instances with the template's *default* version
and reports that same default for every ASG instance; `update cluster` makes each new
version the default as well, which keeps the tag right in both worlds.)
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from escala.api import InstanceGroup, Role
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import CLUSTER_TAG, INSTANCE_GROUP_TAG, as_dict
from escala.errors import CloudError

LT_VERSION_TAG = "aws:ec2launchtemplate:version"

# Every AWS call of this module, which validate and rolling-update make through it:
# part of the operator's least-privilege policy (escala.ops.iam_operator).
IAM_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
    "autoscaling:DetachInstances",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplates",
    "ec2:CreateTags",
    "ec2:TerminateInstances",
)


@dataclass
class CloudInstance:
    """One instance of a group, as the ASG and EC2 see it."""

    id: str
    zone: str
    lifecycle_state: str
    health_status: str
    launch_template_version: str | None
    private_dns: str = ""
    need_update: bool = False

    @property
    def in_service(self) -> bool:
        return self.lifecycle_state == "InService" and self.health_status == "Healthy"


@dataclass
class CloudGroup:
    """An instance group joined with its ASG (`asg_found` False when there is none)."""

    group: InstanceGroup
    asg_name: str
    asg_found: bool = False
    min_size: int = 0
    max_size: int = 0
    desired: int = 0
    target_version: str | None = None
    instances: list[CloudInstance] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.group.name

    @property
    def is_master(self) -> bool:
        return self.group.spec.role is Role.master

    @property
    def in_service(self) -> list[CloudInstance]:
        return [i for i in self.instances if i.in_service]

    @property
    def stale(self) -> list[CloudInstance]:
        return [i for i in self.instances if i.need_update]


def asg_name(group: str, cluster_name: str) -> str:
    return f"{group}.{cluster_name}"


def _call(doing: str, fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as e:
        raise CloudError(f"{doing}: {e}") from e


def _resolve_version(aws: ClientFactory, template: dict[str, Any]) -> str | None:
    """The ASG's launch-template version as a number ($Latest/$Default resolved)."""
    version = str(template.get("Version") or "$Default")
    if version not in ("$Latest", "$Default"):
        return version
    kwargs = (
        {"LaunchTemplateIds": [template["LaunchTemplateId"]]}
        if template.get("LaunchTemplateId")
        else {"LaunchTemplateNames": [template["LaunchTemplateName"]]}
    )
    found = _call("reading launch template", aws.client("ec2").describe_launch_templates, **kwargs)[
        "LaunchTemplates"
    ][0]
    key = "LatestVersionNumber" if version == "$Latest" else "DefaultVersionNumber"
    return str(found[key])


def _ec2_details(aws: ClientFactory, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    pages = aws.client("ec2").get_paginator("describe_instances").paginate(InstanceIds=ids)
    out: dict[str, dict[str, Any]] = {}
    try:
        for page in pages:
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    out[instance["InstanceId"]] = instance
    except (ClientError, BotoCoreError) as e:
        raise CloudError(f"reading instances {', '.join(ids)}: {e}") from e
    return out


def read_groups(
    aws: ClientFactory, cluster_name: str, groups: Iterable[InstanceGroup]
) -> list[CloudGroup]:
    """Each instance group with its ASG's sizes, target version and instances."""
    result = [CloudGroup(g, asg_name(g.name, cluster_name)) for g in groups]
    if not result:
        return result
    names = [g.asg_name for g in result]
    asgs: dict[str, dict[str, Any]] = {}
    paginator = aws.client("autoscaling").get_paginator("describe_auto_scaling_groups")
    try:
        for page in paginator.paginate(AutoScalingGroupNames=names):
            asgs.update({a["AutoScalingGroupName"]: a for a in page["AutoScalingGroups"]})
    except (ClientError, BotoCoreError) as e:
        raise CloudError(f"reading the Auto Scaling Groups of cluster {cluster_name}: {e}") from e
    details = _ec2_details(
        aws, [i["InstanceId"] for a in asgs.values() for i in a.get("Instances", [])]
    )
    for cloud in result:
        asg = asgs.get(cloud.asg_name)
        if asg is None:
            continue
        cloud.asg_found = True
        cloud.min_size, cloud.max_size = asg["MinSize"], asg["MaxSize"]
        cloud.desired = asg["DesiredCapacity"]
        mixed = asg.get("MixedInstancesPolicy") or {}
        template = asg.get("LaunchTemplate") or mixed.get("LaunchTemplate", {}).get(
            "LaunchTemplateSpecification", {}
        )
        cloud.target_version = _resolve_version(aws, template) if template else None
        for raw in asg.get("Instances", []):
            ec2 = details.get(raw["InstanceId"], {})
            tags = as_dict(ec2.get("Tags"))
            version = tags.get(LT_VERSION_TAG) or (raw.get("LaunchTemplate") or {}).get("Version")
            cloud.instances.append(
                CloudInstance(
                    id=raw["InstanceId"],
                    zone=raw["AvailabilityZone"],
                    lifecycle_state=raw["LifecycleState"],
                    health_status=raw["HealthStatus"],
                    launch_template_version=version,
                    private_dns=ec2.get("PrivateDnsName", ""),
                    need_update=version is not None and version != cloud.target_version,
                )
            )
        cloud.instances.sort(key=lambda i: i.id)
    return result


def terminate_in_group(aws: ClientFactory, instance_id: str) -> None:
    """Terminate through the ASG, keeping its desired count: it launches a replacement."""
    _call(
        f"terminating instance {instance_id}",
        aws.client("autoscaling").terminate_instance_in_auto_scaling_group,
        InstanceId=instance_id,
        ShouldDecrementDesiredCapacity=False,
    )


DETACHED_TAG = "escala.io/rolling-update"


def detach_from_group(
    aws: ClientFactory, cluster_name: str, group: str, instance_ids: list[str]
) -> None:
    """Detach instances (the ASG launches replacements), tagged so a re-run finds them."""
    _call(
        f"tagging instances {', '.join(instance_ids)} as detached",
        aws.client("ec2").create_tags,
        Resources=instance_ids,
        Tags=[
            {"Key": DETACHED_TAG, "Value": "detached"},
            {"Key": CLUSTER_TAG, "Value": cluster_name},
            {"Key": INSTANCE_GROUP_TAG, "Value": group},
        ],
    )
    _call(
        f"detaching instances {', '.join(instance_ids)}",
        aws.client("autoscaling").detach_instances,
        AutoScalingGroupName=asg_name(group, cluster_name),
        InstanceIds=instance_ids,
        ShouldDecrementDesiredCapacity=False,
    )


def detached_instances(aws: ClientFactory, cluster_name: str, group: str) -> list[str]:
    """Instances a rolling update detached from `group` and has not terminated yet."""
    filters = [
        {"Name": f"tag:{DETACHED_TAG}", "Values": ["detached"]},
        {"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster_name]},
        {"Name": f"tag:{INSTANCE_GROUP_TAG}", "Values": [group]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
    ]
    pages = aws.client("ec2").get_paginator("describe_instances").paginate(Filters=filters)
    try:
        return sorted(
            i["InstanceId"] for page in pages for r in page["Reservations"] for i in r["Instances"]
        )
    except (ClientError, BotoCoreError) as e:
        raise CloudError(f"finding detached instances of group {group}: {e}") from e


def terminate_detached(aws: ClientFactory, instance_id: str) -> None:
    _call(
        f"terminating detached instance {instance_id}",
        aws.client("ec2").terminate_instances,
        InstanceIds=[instance_id],
    )
