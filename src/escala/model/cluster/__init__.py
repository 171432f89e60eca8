"""Builders: a completed Cluster and its InstanceGroups -> the keyed graph of AWS tasks.

Pure: nothing here calls AWS. The builders run in a fixed order only so each can look
up the tasks earlier ones made; the order resources are *applied* in comes from the
references between tasks (see escala.reconcile.engine).
"""

from escala.api import Cluster, InstanceGroup
from escala.model.cluster.api_load_balancer import build_api_load_balancer
from escala.model.cluster.etcd import build_etcd_volumes
from escala.model.cluster.firewall import build_firewall
from escala.model.cluster.iam_roles import build_iam
from escala.model.cluster.instance_groups import build_instance_groups
from escala.model.context import ClusterContext
from escala.model.network import build_network
from escala.reconcile.task import Task

BUILDERS = (
    build_network,
    build_firewall,
    build_iam,
    build_api_load_balancer,
    build_etcd_volumes,
    build_instance_groups,
)


def build_tasks(
    cluster: Cluster, groups: list[InstanceGroup], ssh_public_key: str | None = None
) -> dict[str, Task]:
    """Every AWS task the cluster needs, keyed `Kind/name`."""
    ctx = ClusterContext(
        cluster.name,
        cluster=cluster,
        groups=sorted(groups, key=lambda g: g.name),
        ssh_public_key=ssh_public_key,
    )
    for build in BUILDERS:
        build(ctx)
    return ctx.tasks


__all__ = ["build_tasks"]
