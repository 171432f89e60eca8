"""Cordon and drain a node the way `kubectl drain --ignore-daemonsets` does.

Pods leave through the Eviction API, never a plain DELETE, so PodDisruptionBudgets are
honoured: a 429 answer means "not now", and the pod is retried with a growing pause
until the drain deadline. DaemonSet pods (their controller would put them straight back)
and mirror pods of static manifests (the control plane itself) stay; they go with the
machine.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from escala.errors import EscalaError
from escala.kube.client import KubeClient, Obj, instance_id_of

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


class DrainTimeout(EscalaError):
    """Pods were still on the node when the drain deadline passed."""


@dataclass
class DrainReport:
    node: str
    evicted: list[str] = field(default_factory=list)
    refused: int = 0  # 429 answers: evictions a disruption budget postponed


def stays_on_node(pod: Obj) -> bool:
    """DaemonSet, mirror and finished pods are not evicted."""
    meta = pod.get("metadata", {})
    if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return True
    if any(o.get("kind") == "DaemonSet" for o in meta.get("ownerReferences") or []):
        return True
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def _key(pod: Obj) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


def drain_node(
    kube: KubeClient,
    node: str,
    timeout: float,
    log: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> DrainReport:
    """Cordon `node` and evict its pods; raises DrainTimeout after `timeout` seconds."""
    kube.set_unschedulable(node, True)
    log(f"cordoned node {node}")
    report = DrainReport(node)
    deadline = time.monotonic() + timeout
    pause = 0.2
    while True:
        pending = [p for p in kube.list_pods(node=node) if not stays_on_node(p)]
        if not pending:
            log(f"drained node {node}: {len(report.evicted)} pods evicted")
            return report
        if time.monotonic() >= deadline:
            names = ", ".join(sorted(_key(p) for p in pending))
            raise DrainTimeout(
                f"draining node {node} took longer than {timeout:.0f}s; still there: {names} "
                "(a PodDisruptionBudget may be blocking; raise --drain-timeout or fix the "
                "budget, then run the rolling update again)"
            )
        blocked, before = False, len(report.evicted)
        for pod in (p for p in pending if "deletionTimestamp" not in p["metadata"]):
            result = kube.evict(pod["metadata"]["namespace"], pod["metadata"]["name"])
            if result.evicted:
                report.evicted.append(_key(pod))
                log(f"evicted pod {_key(pod)}")
            else:
                report.refused += 1
                blocked = True
                log(f"eviction of pod {_key(pod)} refused (disruption budget); will retry")
        if blocked or len(report.evicted) == before:
            sleep(pause)
            pause = min(pause * 2, 5.0)


def evacuate_instance(
    kube: KubeClient,
    instance_id: str,
    timeout: float,
    log: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Drain the node of an EC2 instance and delete the node object (kops's order before
    terminating it); an instance that never joined has nothing to drain."""
    node = next((n for n in kube.list_nodes() if instance_id_of(n) == instance_id), None)
    if node is None:
        log(f"instance {instance_id} has no node; nothing to drain")
        return
    name = node["metadata"]["name"]
    drain_node(kube, name, timeout, log, sleep)
    kube.delete_node(name)
    log(f"deleted node {name}")
