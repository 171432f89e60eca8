"""Is the cluster healthy? The checks of `kops validate cluster`.

- every instance group's ASG exists and has its desired count of instances InService;
- every instance has joined the cluster as a node (matched by `spec.providerID`), and
  every node is Ready;
- every control-plane node runs kube-apiserver, kube-controller-manager, kube-scheduler
  and etcd (kubeadm's static pods, labelled `component=<name>`), Running and Ready;
- every kube-system pod is Running and Ready (or finished);
- no certificate the caller passes (the CAs, the admin kubeconfig's: escala.ops.certificates)
  has expired; each is listed with its expiry either way.

Each problem becomes one ValidationFailure with the kind kops uses (InstanceGroup,
Machine, Node, Pod). The cluster is ready when there are none.
"""

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from escala.api import InstanceGroup
from escala.cloud.aws.session import ClientFactory
from escala.errors import KubernetesUnreachable
from escala.kube.client import KubeClient, Obj, instance_id_of, node_is_ready
from escala.ops.certificates import CertificateExpiry
from escala.ops.cloud_groups import CloudGroup, read_groups

CONTROL_PLANE_COMPONENTS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
)
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"


@dataclass
class ValidationFailure:
    kind: str  # InstanceGroup | Machine | Node | Pod | Certificate
    name: str
    message: str


@dataclass
class GroupRow:
    name: str
    role: str
    machine_type: str
    min: int
    max: int
    subnets: str


@dataclass
class NodeRow:
    name: str
    role: str
    ready: bool


@dataclass
class CertificateRow:
    name: str
    expires: str  # ISO 8601, UTC
    remaining: str  # 17h, 3649d, expired
    status: str  # ok | renew soon | expired


@dataclass
class ValidationResult:
    cluster: str
    instance_groups: list[GroupRow] = field(default_factory=list)
    nodes: list[NodeRow] = field(default_factory=list)
    certificates: list[CertificateRow] = field(default_factory=list)
    failures: list[ValidationFailure] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ready": self.ready}


def _pod_ready(pod: Obj) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    running = pod.get("status", {}).get("phase") == "Running"
    return running and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in conditions
    )


def _check_groups(groups: list[CloudGroup]) -> list[ValidationFailure]:
    failures = []
    for g in groups:
        if not g.asg_found:
            failures.append(
                ValidationFailure(
                    "InstanceGroup",
                    g.name,
                    f"InstanceGroup {g.name!r} has no Auto Scaling Group {g.asg_name!r} "
                    "(run `escala update cluster --yes`)",
                )
            )
        elif len(g.in_service) < g.desired:
            failures.append(
                ValidationFailure(
                    "InstanceGroup",
                    g.name,
                    f"InstanceGroup {g.name!r} did not have enough nodes "
                    f"{len(g.in_service)} vs {g.desired}",
                )
            )
    return failures


def _check_nodes(
    groups: list[CloudGroup], nodes: list[Obj], pods: list[Obj]
) -> tuple[list[NodeRow], list[ValidationFailure]]:
    by_instance = {instance_id_of(n): n for n in nodes}
    masters = {i.id for g in groups if g.is_master for i in g.instances}
    rows, failures = [], []
    for g in groups:
        for instance in [] if g.is_bastion else g.in_service:
            if instance.id not in by_instance:
                failures.append(
                    ValidationFailure(
                        "Machine",
                        instance.id,
                        f"machine {instance.id!r} has not yet joined cluster",
                    )
                )
    running = {
        (p["spec"].get("nodeName"), p["metadata"].get("labels", {}).get("component"))
        for p in pods
        if _pod_ready(p)
    }
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        name = node["metadata"]["name"]
        is_master = (
            instance_id_of(node) in masters or CONTROL_PLANE_LABEL in node["metadata"]["labels"]
        )
        role = "master" if is_master else "node"
        ready = node_is_ready(node)
        rows.append(NodeRow(name, role, ready))
        if not ready:
            failures.append(
                ValidationFailure("Node", name, f"node {name!r} of role {role!r} is not ready")
            )
        if is_master:
            failures.extend(
                ValidationFailure("Node", name, f"master {name!r} is missing {c} pod")
                for c in CONTROL_PLANE_COMPONENTS
                if (name, c) not in running
            )
    return rows, failures


def _check_system_pods(pods: list[Obj]) -> list[ValidationFailure]:
    failures = []
    for pod in pods:
        phase = pod.get("status", {}).get("phase")
        name = pod["metadata"]["name"]
        if phase == "Succeeded" or _pod_ready(pod):
            continue
        state = "pending" if phase == "Pending" else "failed" if phase == "Failed" else "not ready"
        failures.append(
            ValidationFailure("Pod", f"kube-system/{name}", f"kube-system pod {name!r} is {state}")
        )
    return failures


def _remaining(left: dt.timedelta) -> str:
    if left <= dt.timedelta(0):
        return "expired"
    hours = left.total_seconds() / 3600
    return f"{hours:.0f}h" if hours < 48 else f"{left.days}d"


def check_certificates(
    certificates: Sequence[CertificateExpiry], now: dt.datetime
) -> tuple[list[CertificateRow], list[ValidationFailure]]:
    """A row per certificate; an expired one is a failure, with how to renew it."""
    rows, failures = [], []
    for cert in certificates:
        expires = cert.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
        status = cert.status(now)
        rows.append(CertificateRow(cert.name, expires, _remaining(cert.remaining(now)), status))
        if status == "expired":
            failures.append(
                ValidationFailure(
                    "Certificate", cert.name, f"{cert.name} expired at {expires}; {cert.renew}"
                )
            )
    return rows, failures


def _group_row(group: InstanceGroup) -> GroupRow:
    spec = group.spec
    return GroupRow(
        group.name,
        spec.role.value,
        spec.machine_type or "",
        spec.min_size or 0,
        spec.max_size or 0,
        ",".join(spec.subnets),
    )


def validate_cluster(
    cluster_name: str,
    groups: Iterable[InstanceGroup],
    aws: ClientFactory,
    kube: KubeClient,
    certificates: Sequence[CertificateExpiry] = (),
) -> ValidationResult:
    """One pass of every check; raises KubernetesUnreachable if the API cannot be reached."""
    groups = list(groups)
    cloud = read_groups(aws, cluster_name, groups)
    result = ValidationResult(cluster_name, [_group_row(g) for g in groups])
    result.failures = _check_groups(cloud)
    nodes = kube.list_nodes()
    system_pods = kube.list_pods("kube-system")
    result.nodes, node_failures = _check_nodes(cloud, nodes, system_pods)
    result.certificates, cert_failures = check_certificates(certificates, dt.datetime.now(dt.UTC))
    result.failures += node_failures + _check_system_pods(system_pods) + cert_failures
    return result


def wait_for_valid(
    check: Callable[[], ValidationResult],
    timeout: float,
    interval: float = 10.0,
    log: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> ValidationResult:
    """Run `check` until the cluster is ready or `timeout` seconds pass.

    Returns the last result (ready or not). An unreachable API counts as not yet valid
    while there is time left, and is raised once there is none.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except KubernetesUnreachable as e:
            if time.monotonic() >= deadline:
                raise
            log(str(e))
        else:
            if result.ready or time.monotonic() >= deadline:
                return result
            log(f"cluster not yet valid: {'; '.join(f.message for f in result.failures)}")
        sleep(max(0.05, min(interval, deadline - time.monotonic())))
