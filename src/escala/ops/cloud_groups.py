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

from escala.api import InstanceGroup, Role
from escala.cloud.aws import autoscaling_group, instance
from escala.cloud.aws.launch_template import resolve_version
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import CLUSTER_TAG, INSTANCE_GROUP_TAG, as_dict
from escala.errors import UsageError

LT_VERSION_TAG = "aws:ec2launchtemplate:version"


def only_groups(
    groups: Iterable[InstanceGroup], names: list[str], cluster_name: str
) -> list[InstanceGroup]:
    """The groups `--instance-group` names (repeated or comma-separated, as kops takes
    it), all of them when it names none; a name the cluster does not have fails, with
    the ones it has."""
    groups = list(groups)
    wanted = [n.strip() for given in names for n in given.split(",") if n.strip()]
    known = {g.name for g in groups}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise UsageError(
            f"--instance-group {', '.join(unknown)}: no such instance group in cluster "
            f"{cluster_name} (known: {', '.join(sorted(known))})"
        )
    return [g for g in groups if not wanted or g.name in wanted]


@dataclass
class CloudInstance:
    """One instance of a group, as the ASG and EC2 see it."""

    id: str
    zone: str
    lifecycle_state: str
    health_status: str
    launch_template_version: str | None
    private_dns: str = ""
    private_ip: str = ""
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
    def is_bastion(self) -> bool:
        """A bastion's machines never join Kubernetes."""
        return self.group.spec.role is Role.bastion

    @property
    def in_service(self) -> list[CloudInstance]:
        return [i for i in self.instances if i.in_service]

    @property
    def stale(self) -> list[CloudInstance]:
        return [i for i in self.instances if i.need_update]


def asg_name(group: str, cluster_name: str) -> str:
    return f"{group}.{cluster_name}"


def read_groups(
    aws: ClientFactory, cluster_name: str, groups: Iterable[InstanceGroup]
) -> list[CloudGroup]:
    """Each instance group with its ASG's sizes, target version and instances."""
    result = [CloudGroup(g, asg_name(g.name, cluster_name)) for g in groups]
    if not result:
        return result
    asgs = autoscaling_group.describe_groups(
        aws,
        [g.asg_name for g in result],
        f"reading the Auto Scaling Groups of cluster {cluster_name}",
    )
    details = instance.describe_instances(
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
        cloud.target_version = resolve_version(aws, template) if template else None
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
                    private_ip=ec2.get("PrivateIpAddress", ""),
                    need_update=version is not None and version != cloud.target_version,
                )
            )
        cloud.instances.sort(key=lambda i: i.id)
    return result


DETACHED_TAG = "escala.io/rolling-update"


def _detached_tags(cluster_name: str, group: str) -> dict[str, str]:
    return {DETACHED_TAG: "detached", CLUSTER_TAG: cluster_name, INSTANCE_GROUP_TAG: group}


def detach_from_group(
    aws: ClientFactory, cluster_name: str, group: str, instance_ids: list[str]
) -> None:
    """Detach instances (the ASG launches replacements), tagged so a re-run finds them."""
    instance.tag_instances(
        aws,
        instance_ids,
        _detached_tags(cluster_name, group),
        f"tagging instances {', '.join(instance_ids)} as detached",
    )
    autoscaling_group.detach_instances(aws, asg_name(group, cluster_name), instance_ids)


def detached_instances(aws: ClientFactory, cluster_name: str, group: str) -> list[str]:
    """Instances a rolling update detached from `group` and has not terminated yet."""
    return instance.live_instances_tagged(
        aws, _detached_tags(cluster_name, group), f"finding detached instances of group {group}"
    )


def terminate_detached(aws: ClientFactory, instance_id: str) -> None:
    instance.terminate_instance(aws, instance_id, f"terminating detached instance {instance_id}")
