"""A cluster's scaling, live: each instance group's Auto Scaling Group (as
escala.ops.status reads a chat service's), and, when the Kubernetes API answers, the
chat's HPA, its pods per zone and cluster-autoscaler's status; `get instances` lists
every instance as `kops get instances` does.

The two halves fail apart: an API server that does not answer (or no kubeconfig) leaves
the cloud half whole and says what is missing and why.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

from escala.api import InstanceGroup
from escala.cloud.aws.autoscaling_group import read_capacity
from escala.cloud.aws.session import ClientFactory
from escala.errors import EscalaError
from escala.kube.client import KubeClient, instance_id_of
from escala.kube.cluster_autoscaler import NAME as AUTOSCALER
from escala.kube.manifests import CHAT, NAMESPACE
from escala.kube.objects import SYSTEM
from escala.kube.scaling_status import (
    AUTOSCALER_STATUS,
    HpaStatus,
    autoscaler_status,
    hpa_status,
    pods_per_zone,
)
from escala.ops.cloud_groups import asg_name, read_groups
from escala.ops.status import ScalingStatus, _reading, group_status

KubeFactory = Callable[[], KubeClient]


@dataclasses.dataclass
class KubeScaling:
    """What the Kubernetes API says; `missing` names each part it could not give."""

    hpa: HpaStatus | None = None
    pods_per_zone: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    autoscaler: dict[str, Any] | None = None
    missing: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hpa": self.hpa.to_dict() if self.hpa else None,
            "podsPerZone": self.pods_per_zone,
            "clusterAutoscaler": self.autoscaler,
            "missing": self.missing,
        }


@dataclasses.dataclass
class ClusterStatus:
    name: str
    groups: dict[str, ScalingStatus | None]  # instance group -> its ASG (None: not built)
    kube: KubeScaling

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "ClusterStatus",
            "name": self.name,
            "instanceGroups": {ig: (s.to_dict() if s else None) for ig, s in self.groups.items()},
            "kubernetes": self.kube.to_dict(),
        }


def _hpa_object() -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": CHAT, "namespace": NAMESPACE},
    }


def _status_config_map() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": AUTOSCALER_STATUS, "namespace": SYSTEM},
    }


def kube_scaling(kube_factory: KubeFactory) -> KubeScaling:
    """The Kubernetes half; never raises for an API that is down, says so instead."""
    out = KubeScaling()
    try:
        kube = kube_factory()
    except EscalaError as e:
        out.missing.append(f"Kubernetes API: {e}")
        return out
    try:
        hpa = kube.get(_hpa_object())
        if hpa is None:
            out.missing.append(
                f"HPA: no HorizontalPodAutoscaler {CHAT} in namespace {NAMESPACE}; "
                "deploy the chat with `escala deploy chat`"
            )
        else:
            out.hpa = hpa_status(hpa)
        pods = kube.list_pods(NAMESPACE, label_selector=f"app.kubernetes.io/name={CHAT}")
        out.pods_per_zone = pods_per_zone(pods, kube.list_nodes())
        status = kube.get(_status_config_map())
        if status is None:
            out.missing.append(
                f"cluster-autoscaler: no {AUTOSCALER_STATUS} ConfigMap in {SYSTEM} yet "
                f"({AUTOSCALER} writes it every loop once it runs)"
            )
        else:
            out.autoscaler = autoscaler_status(status)
    except EscalaError as e:
        out.missing.append(f"Kubernetes API: {e}")
    finally:
        kube.close()
    return out


def cluster_status(
    cluster_name: str,
    groups: list[InstanceGroup],
    aws: ClientFactory,
    kube_factory: KubeFactory,
) -> ClusterStatus:
    names = {g.name: asg_name(g.name, cluster_name) for g in groups}
    found = _reading(
        f"the Auto Scaling Groups of cluster {cluster_name}",
        read_capacity,
        aws,
        list(names.values()),
    )
    scaling = {
        ig: (group_status(aws, found[asg]) if asg in found else None) for ig, asg in names.items()
    }
    return ClusterStatus(cluster_name, scaling, kube_scaling(kube_factory))


@dataclasses.dataclass(frozen=True)
class InstanceRow:
    """One line of `escala get instances`, kops's columns."""

    id: str
    node_name: str
    status: str  # UpToDate / NeedsUpdate
    roles: str
    state: str  # the ASG's lifecycle state
    internal_ip: str
    instance_group: str
    machine_type: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _node_names(kube_factory: KubeFactory) -> tuple[dict[str, str], str | None]:
    """instance ID -> node name, and why there are none when the API did not answer."""
    try:
        kube = kube_factory()
    except EscalaError as e:
        return {}, str(e)
    try:
        nodes = kube.list_nodes()
    except EscalaError as e:
        return {}, str(e)
    finally:
        kube.close()
    found = {instance_id_of(n): n["metadata"]["name"] for n in nodes}
    return {k: v for k, v in found.items() if k}, None


def cluster_instances(
    cluster_name: str,
    groups: list[InstanceGroup],
    aws: ClientFactory,
    kube_factory: KubeFactory,
) -> tuple[list[InstanceRow], str | None]:
    """Every instance of the cluster's groups, and why node names are missing (if so)."""
    nodes, missing = _node_names(kube_factory)
    rows = [
        InstanceRow(
            id=i.id,
            node_name=nodes.get(i.id, ""),
            status="NeedsUpdate" if i.need_update else "UpToDate",
            roles=cloud.group.spec.role.value.lower(),
            state=i.lifecycle_state,
            internal_ip=i.private_ip,
            instance_group=cloud.name,
            machine_type=str(cloud.group.spec.machine_type or ""),
        )
        for cloud in read_groups(aws, cluster_name, groups)
        for i in cloud.instances
    ]
    return rows, missing
