"""The three cases the lab simulates, with their parameters: escala's defaults, a stored
ChatService or Cluster spec (with the ChatDeployment `deploy chat` stored), then the
user's flags, in that order.

Start-up times are not in any spec. Instance boot is an estimate for escala's user-data
(apt installs Docker, then pulls the image); node provisioning follows cluster-autoscaler's
FAQ ("3 to 4 minutes" from request to schedulable on GCE); Fargate tasks "30-45 seconds
or longer" (AWS re:Post) plus the load balancer's first health checks.
"""

import dataclasses
from dataclasses import dataclass

from escala.api import Cluster, InstanceGroup, Role
from escala.api.chat_deployment import MAX_REPLICAS, MIN_REPLICAS, ChatDeployment
from escala.api.chat_scaling import CPU_TARGET
from escala.api.chat_service_spec import (
    FARGATE_CPU,
    FARGATE_MEMORY,
    MACHINE_TYPE,
    MAX_SIZE,
    MIN_SIZE,
    ChatService,
    Platform,
)
from escala.api.defaults import MACHINE_TYPE as NODE_MACHINE_TYPE
from escala.errors import UsageError

KINDS = ("ec2", "fargate", "kubernetes")


@dataclass(frozen=True)
class Ec2Case:
    """One chat container per instance (escala's user-data), so one replica each."""

    label: str = "ec2"
    machine_type: str = MACHINE_TYPE
    min_size: int = MIN_SIZE
    max_size: int = MAX_SIZE
    cpu_target: float = CPU_TARGET
    boot_s: float = 180.0
    warmup_s: float = 300.0  # escala's ScalingPolicy EstimatedInstanceWarmup


@dataclass(frozen=True)
class FargateCase:
    label: str = "fargate"
    cpu_units: int = FARGATE_CPU
    memory_mib: int = FARGATE_MEMORY
    min_size: int = MIN_SIZE
    max_size: int = MAX_SIZE
    cpu_target: float = CPU_TARGET
    start_s: float = 60.0


@dataclass(frozen=True)
class KubernetesCase:
    """`escala deploy chat` on an escala cluster: pods request 250m, limit 1 CPU; the
    node group and the masters come from the cluster's instance groups."""

    label: str = "kubernetes"
    node_type: str = NODE_MACHINE_TYPE
    min_nodes: int = 2
    max_nodes: int = 6
    masters: int = 3
    master_type: str = NODE_MACHINE_TYPE
    min_size: int = MIN_REPLICAS
    max_size: int = MAX_REPLICAS
    cpu_target: float = CPU_TARGET
    pod_request_m: int = 250
    pod_limit_m: int = 1000
    node_reserved_m: int = 350  # kube-proxy, the CNI, metrics-server and Redis's share
    node_boot_s: float = 210.0
    pod_start_s: float = 15.0


Case = Ec2Case | FargateCase | KubernetesCase


def default_case(kind: str) -> Case:
    if kind == "ec2":
        return Ec2Case()
    if kind == "fargate":
        return FargateCase()
    if kind == "kubernetes":
        return KubernetesCase()
    raise UsageError(
        f"--case: {kind!r} is not a case; use ec2, fargate, kubernetes, "
        "chatservice/NAME or cluster/NAME"
    )


def from_chat_service(service: ChatService) -> Case:
    """A stored (completed) ChatService: its platform, sizes, target and machine."""
    spec = service.spec
    common = {
        "label": f"chatservice/{service.name}",
        "min_size": spec.min_size or MIN_SIZE,
        "max_size": spec.max_size or MAX_SIZE,
        "cpu_target": spec.cpu_target or CPU_TARGET,
    }
    if spec.platform is Platform.ec2:
        return Ec2Case(machine_type=spec.machine_type or MACHINE_TYPE, **common)
    return FargateCase(
        cpu_units=spec.cpu or FARGATE_CPU, memory_mib=spec.memory or FARGATE_MEMORY, **common
    )


def from_cluster(
    cluster: Cluster, groups: list[InstanceGroup], chat: ChatDeployment | None
) -> KubernetesCase:
    """A stored cluster: its node group's machine and sizes, its masters' count and machine,
    and the HPA's numbers from the ChatDeployment `escala deploy chat` stored (escala's
    defaults, as deploy uses them, when it stored none)."""
    nodes = [g for g in groups if g.spec.role is Role.node]
    masters = [g for g in groups if g.spec.role is Role.master]
    if not nodes:
        raise UsageError(f"--case cluster/{cluster.name}: the cluster has no Node instance group")
    node = nodes[0].spec
    case = KubernetesCase(
        label=f"cluster/{cluster.name}",
        node_type=node.machine_type or NODE_MACHINE_TYPE,
        min_nodes=sum(g.spec.min_size or 0 for g in nodes),
        max_nodes=sum(g.spec.max_size or 0 for g in nodes),
        masters=sum(g.spec.min_size or 1 for g in masters),
        master_type=(masters[0].spec.machine_type if masters else None) or NODE_MACHINE_TYPE,
    )
    if chat is None:
        return case
    hpa = chat.spec
    return dataclasses.replace(
        case, min_size=hpa.min_replicas, max_size=hpa.max_replicas, cpu_target=hpa.cpu_target
    )


def with_flags(
    case: Case, *, target: float | None, min_size: int | None, max_size: int | None
) -> Case:
    """The user's flags over the case; checked here so every path refuses the same way."""
    changes: dict[str, object] = {}
    if target is not None:
        if not 1 <= target <= 100:
            raise UsageError(f"--target: {target:g} must be a CPU percentage from 1 to 100")
        changes["cpu_target"] = target
        changes["label"] = f"{case.label}@{target:g}"
    if min_size is not None:
        changes["min_size"] = min_size
    if max_size is not None:
        changes["max_size"] = max_size
    done = dataclasses.replace(case, **changes)  # type: ignore[arg-type]
    if done.min_size < 1:
        raise UsageError(f"--min: {done.min_size} must be at least 1")
    if done.max_size < done.min_size:
        raise UsageError(f"--max: {done.max_size} must be >= --min ({done.min_size})")
    return done
