"""etcd's EBS volumes: one per member (= per master zone) per etcd cluster."""

from escala.api import Role
from escala.cloud.aws.ebs_volume import EbsVolume
from escala.cloud.aws.tags import ETCD_TAG, INSTANCE_GROUP_TAG, ROLE_TAG
from escala.errors import SpecInvalid
from escala.model.context import ClusterContext

DEFAULT_SIZE_GIB = 20


def etcd_volume_name(member: str, etcd_cluster: str, cluster_name: str) -> str:
    """kops's naming: `a.etcd-main.proyecto.k8s.local`."""
    return f"{member}.etcd-{etcd_cluster}.{cluster_name}"


def build_etcd_volumes(ctx: ClusterContext) -> None:
    spec = ctx.cluster.spec
    ctx.require(spec.etcd_clusters, "spec.etcdClusters")
    masters = {g.name: g for g in ctx.groups if g.spec.role is Role.master}
    zones = {s.name: s.zone for s in spec.subnets}
    for i, etcd in enumerate(spec.etcd_clusters):
        for j, member in enumerate(etcd.etcd_members):
            group = masters.get(member.instance_group)
            if group is None or not group.spec.subnets:
                raise SpecInvalid(
                    [
                        f"spec.etcdClusters[{i}].etcdMembers[{j}].instanceGroup: "
                        f"{member.instance_group!r} is not a master instance group with a subnet"
                    ],
                    ctx.cluster_name,
                )
            name = etcd_volume_name(member.name, etcd.name, ctx.cluster_name)
            tags = ctx.tags(
                name,
                **{
                    ETCD_TAG: f"{etcd.name}/{member.name}",
                    INSTANCE_GROUP_TAG: group.name,
                    ROLE_TAG: "master",
                },
            )
            ctx.add(
                EbsVolume(
                    name=name,
                    tags=tags,
                    zone=zones[group.spec.subnets[0]],
                    size=member.volume_size or DEFAULT_SIZE_GIB,
                    volume_type=member.volume_type or "gp3",
                )
            )
