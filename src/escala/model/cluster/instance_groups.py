"""Per instance group: a launch template and an Auto Scaling Group named `<ig>.<cluster>`
(escala.model.launch_group), plus the cluster's SSH key pair they share."""

from escala.api import InstanceGroup, Role
from escala.bootstrap.cloudinit import render_user_data
from escala.cloud.aws.autoscaling_group import InstancesMix
from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.key_pair import KeyPair
from escala.cloud.aws.load_balancer import TargetGroup, elb_name
from escala.cloud.aws.security_group import SecurityGroup
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.tags import INSTANCE_GROUP_TAG
from escala.model.cluster.firewall import BASTION, MASTERS, NODES, security_group_name
from escala.model.cluster.iam_roles import role_name
from escala.model.context import ClusterContext
from escala.model.launch_group import build_launch_group


def group_resource_name(group: InstanceGroup, cluster_name: str) -> str:
    return f"{group.name}.{cluster_name}"


def key_pair_name(ctx: ClusterContext) -> str:
    return ctx.cluster.spec.ssh_key_name or f"kubernetes.{ctx.cluster_name}"


def build_instance_groups(ctx: ClusterContext) -> None:
    key_pair = None
    if ctx.ssh_public_key:
        name = key_pair_name(ctx)
        key_pair = KeyPair(name=name, tags=ctx.tags(name), public_key=ctx.ssh_public_key)
        ctx.add(key_pair)
    for group in ctx.groups:
        spec = group.spec
        field = f"instanceGroup {group.name}: spec"
        for value, attr in (
            (spec.machine_type, "machineType"),
            (spec.image, "image"),
            (spec.min_size, "minSize"),
            (spec.max_size, "maxSize"),
            (spec.subnets, "subnets"),
            (spec.root_volume_size, "rootVolumeSize"),
        ):
            ctx.require(value, f"{field}.{attr}")
        name = group_resource_name(group, ctx.cluster_name)
        role = {Role.master: MASTERS, Role.node: NODES, Role.bastion: BASTION}[spec.role]
        tags = ctx.role_tags(name, spec.role)
        tags[INSTANCE_GROUP_TAG] = group.name
        group_tags = {}
        if spec.role is Role.node:
            # cluster-autoscaler's auto-discovery tags
            group_tags["k8s.io/cluster-autoscaler/enabled"] = "true"
            group_tags[f"k8s.io/cluster-autoscaler/{ctx.cluster_name}"] = "owned"
        targets = []
        if spec.role is Role.master:
            targets = [ctx.get(TargetGroup, elb_name("tcp", ctx.cluster_name))]
        build_launch_group(
            ctx,
            name,
            tags=tags,
            group_tags=group_tags,
            image=str(spec.image),
            machine_type=str(spec.machine_type),
            root_volume_size=int(spec.root_volume_size or 0),
            root_volume_type=spec.root_volume_type or "gp3",
            instance_profile=ctx.get(InstanceProfile, role_name(spec.role, ctx.cluster_name)),
            security_groups=[ctx.get(SecurityGroup, security_group_name(role, ctx.cluster_name))],
            key_pair=key_pair,
            user_data=render_user_data(ctx.cluster, group),
            min_size=int(spec.min_size or 0),
            max_size=int(spec.max_size or 0),
            subnets=[ctx.get(Subnet, s) for s in spec.subnets],
            target_groups=targets,
            mix=_instances_mix(group),
        )


def _instances_mix(group: InstanceGroup) -> InstancesMix | None:
    """The completed spec's mixedInstancesPolicy as the ASG task takes it."""
    policy = group.spec.mixed_instances_policy
    if policy is None:
        return None
    return InstancesMix(
        tuple(policy.instances),
        int(policy.on_demand_base or 0),
        100 if policy.on_demand_above_base is None else policy.on_demand_above_base,
        str(policy.spot_allocation_strategy or "price-capacity-optimized"),
    )
