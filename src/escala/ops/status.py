"""Live status of what scales, read from the cloud rather than the spec.

For a chat service: its Auto Scaling Group or ECS service (min / desired / in service /
pending / max), the targets behind its load balancer and their health, its
target-tracking policies with the states of their alarms, and the last scaling
activities with AWS's own cause text. For a cluster: the same per instance group, plus,
when its Kubernetes API answers, the chat's HPA, its pods per zone and
cluster-autoscaler's status (escala.ops.kube_status); when the API does not answer the
cloud half is still shown, with what is missing and why.
"""

import dataclasses
from typing import Any

from escala.api.chat_service_spec import ChatService, Platform, ScaleSignal
from escala.cloud.aws import scaling_activity
from escala.cloud.aws.autoscaling_group import GroupCapacity, read_capacity
from escala.cloud.aws.ecs_service import read_counts
from escala.cloud.aws.load_balancer import TargetState, elb_name, read_target_health
from escala.cloud.aws.metric_alarm import AlarmState, read_alarms
from escala.cloud.aws.scalable_target import (
    DIMENSION,
    NAMESPACE,
    read_target,
    service_policies,
)
from escala.cloud.aws.scaling_activity import Activity
from escala.cloud.aws.scaling_policy import PolicyState, group_policies
from escala.cloud.aws.session import ClientFactory, call
from escala.errors import NotFound
from escala.ops.chat_service_lifecycle import cpu_metric, replica_cpu
from escala.state import StateStore

ACTIVITIES = 5


@dataclasses.dataclass
class Capacity:
    """One thing that scales: an Auto Scaling Group (instances) or an ECS service
    (tasks; its min and max are its scalable target's)."""

    kind: str
    name: str
    min: int | None
    desired: int
    running: int
    pending: int
    max: int | None

    @classmethod
    def of_group(cls, group: GroupCapacity) -> "Capacity":
        return cls("AutoScalingGroup", group.name, group.min, group.desired, group.in_service,
                   group.pending, group.max)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Policy:
    """A target-tracking policy and the live state of the alarms AWS made for it."""

    name: str
    metric: str
    target: float | None
    alarms: list[AlarmState]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "target": self.target,
            "alarms": [a.to_dict() for a in self.alarms],
        }


@dataclasses.dataclass
class ScalingStatus:
    """What one thing that scales looks like now: capacity, policies, activities."""

    capacity: Capacity
    policies: list[Policy] = dataclasses.field(default_factory=list)
    activities: list[Activity] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.capacity.to_dict(),
            "policies": [p.to_dict() for p in self.policies],
            "activities": [a.to_dict() for a in self.activities],
        }


@dataclasses.dataclass(frozen=True)
class CpuTracking:
    """What the spec's CPU target is on the platform's metric (escala.api.chat_scaling):
    percent of the chat's one core -> percent of the replica's vCPUs."""

    cpu_target: float
    metric: str
    metric_target: float
    on: str
    vcpus: float
    says: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpuTarget": self.cpu_target,
            "metric": self.metric,
            "metricTarget": self.metric_target,
            "on": self.on,
            "vcpus": self.vcpus,
            "says": self.says,
        }


@dataclasses.dataclass
class ChatServiceStatus:
    name: str
    platform: str
    scaling: ScalingStatus | None  # None: not built (or deleted) in AWS
    targets: list[TargetState]
    cpu: CpuTracking | None = None  # None: the service does not scale on CPU

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "ChatServiceStatus",
            "name": self.name,
            "platform": self.platform,
            "cpuTracking": self.cpu.to_dict() if self.cpu else None,
            "scaling": self.scaling.to_dict() if self.scaling else None,
            "targets": [t.to_dict() for t in self.targets],
        }


def _reading(what: str, read: Any, *args: Any) -> Any:
    """One read (of escala.cloud.aws); a failure is a CloudError naming what was read."""
    return call(f"reading {what}", lambda: read(*args))


def with_alarms(clients: ClientFactory, policies: list[PolicyState]) -> list[Policy]:
    names = [a for p in policies for a in p.alarms]
    states = {a.name: a for a in _reading("alarms", read_alarms, clients, names)} if names else {}
    return [
        Policy(p.name, p.metric, p.target, [states[a] for a in p.alarms if a in states])
        for p in policies
    ]


def group_status(clients: ClientFactory, group: GroupCapacity) -> ScalingStatus:
    """An Auto Scaling Group's capacity, policies with alarms, and last activities."""
    policies = _reading(f"the policies of {group.name}", group_policies, clients, group.name)
    activities = _reading(
        f"the scaling activities of {group.name}",
        scaling_activity.group_activities,
        clients,
        group.name,
        ACTIVITIES,
    )
    return ScalingStatus(Capacity.of_group(group), with_alarms(clients, policies), activities)


def _ec2_scaling(clients: ClientFactory, name: str) -> ScalingStatus | None:
    group_name = f"chat.{name}"
    found = _reading(f"Auto Scaling Group {group_name}", read_capacity, clients, [group_name])
    return group_status(clients, found[group_name]) if group_name in found else None


def _fargate_scaling(clients: ClientFactory, name: str) -> ScalingStatus | None:
    ecs_name = elb_name("chat", name)
    counts = _reading(f"ECS service {ecs_name}", read_counts, clients, ecs_name, ecs_name)
    if counts is None:
        return None
    resource = f"service/{ecs_name}/{ecs_name}"
    limits = _reading(f"scalable target {resource}", read_target, clients, resource)
    low, high = limits if limits else (None, None)
    capacity = Capacity("ECSService", ecs_name, low, counts.desired, counts.running,
                        counts.pending, high)  # fmt: skip
    policies = _reading(f"the policies of {resource}", service_policies, clients, resource)
    activities = _reading(
        f"the scaling activities of {resource}",
        scaling_activity.target_activities,
        clients,
        NAMESPACE,
        resource,
        DIMENSION,
        ACTIVITIES,
    )
    return ScalingStatus(capacity, with_alarms(clients, policies), activities)


def chat_service_status(service: ChatService, clients: ClientFactory) -> ChatServiceStatus:
    """The live status of a chat service (its spec says where to look)."""
    name = service.name
    if service.spec.platform is Platform.ec2:
        scaling = _ec2_scaling(clients, name)
    else:
        scaling = _fargate_scaling(clients, name)
    group = elb_name("chat", name)
    targets = _reading(f"target group {group}", read_target_health, clients, group) or []
    return ChatServiceStatus(
        name, service.spec.platform.value, scaling, targets, cpu_tracking(clients, service)
    )


def cpu_tracking(clients: ClientFactory, service: ChatService) -> CpuTracking | None:
    """The spec's CPU target and the one its policy tracks (the instance type's vCPUs read
    from AWS), or None when the service scales on connections only."""
    if ScaleSignal.cpu not in service.scale_signals:
        return None
    replica = _reading("the vCPUs of a replica", replica_cpu, clients, service)
    target = float(service.spec.cpu_target or 0)
    metric = cpu_metric(service)
    return CpuTracking(
        target,
        metric,
        replica.metric_target(target),
        replica.where,
        replica.vcpus,
        replica.explain(target, metric),
    )


def stored_chat_service(store: StateStore, name: str) -> ChatService:
    """The stored service, or NotFound naming where escala looked and what exists."""
    if not store.has_chat_service(name):
        known = ", ".join(s.name for s in store.list_chat_services()) or "none"
        raise NotFound(
            f"chat service {name!r} is not in state store {store.url} (chat services there: "
            f"{known}); see `escala get chatservices`"
        )
    return store.get_chat_service(name)
