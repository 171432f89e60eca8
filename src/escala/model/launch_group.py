"""A launch template and the Auto Scaling Group that launches from it: how escala runs
identical EC2 instances, for a cluster's instance groups (escala.model.cluster.
instance_groups) and a chat service's EC2 case (escala.model.chat_service.ec2).

Both are named alike (the naming contract validate and rolling-update read back: an
ASG and its template share a name); the ASG always points at the template's current
version, so a changed template shows instances launched from an older one as
NeedsUpdate. The instances get the template's tags; the ASG may carry more (the
cluster-autoscaler's discovery tags).
"""

from collections.abc import Mapping

from escala.cloud.aws.autoscaling_group import AutoscalingGroup, InstancesMix
from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.key_pair import KeyPair
from escala.cloud.aws.launch_template import LaunchTemplate
from escala.cloud.aws.load_balancer import TargetGroup
from escala.cloud.aws.security_group import SecurityGroup
from escala.cloud.aws.subnet import Subnet
from escala.model.context import ModelContext


def build_launch_group(
    ctx: ModelContext,
    name: str,
    *,
    tags: Mapping[str, str],
    image: str,
    machine_type: str,
    root_volume_size: int,
    root_volume_type: str,
    instance_profile: InstanceProfile,
    security_groups: list[SecurityGroup],
    user_data: str,
    min_size: int,
    max_size: int,
    subnets: list[Subnet],
    target_groups: list[TargetGroup],
    key_pair: KeyPair | None = None,
    group_tags: Mapping[str, str] | None = None,
    elb_health_check_grace: int | None = None,
    mix: InstancesMix | None = None,
    detailed_monitoring: bool = False,
) -> AutoscalingGroup:
    """Add the template and its group `name` to `ctx`; returns the group.
    `detailed_monitoring`: 1-minute instance metrics, for a group that target-tracks
    its CPU (the chat's); the cluster's groups scale on pending pods, not on CloudWatch,
    and keep the free 5-minute ones."""
    template = ctx.add(
        LaunchTemplate(
            name=name,
            tags=dict(tags),
            image=image,
            machine_type=machine_type,
            root_volume_size=root_volume_size,
            root_volume_type=root_volume_type,
            instance_profile=instance_profile,
            security_groups=security_groups,
            key_pair=key_pair,
            user_data=user_data,
            detailed_monitoring=detailed_monitoring,
        )
    )
    return ctx.add(
        AutoscalingGroup(
            name=name,
            tags={**tags, **(group_tags or {})},
            launch_template=template,
            min_size=min_size,
            max_size=max_size,
            subnets=subnets,
            target_groups=target_groups,
            elb_health_check_grace=elb_health_check_grace,
            mix=mix,
        )
    )
