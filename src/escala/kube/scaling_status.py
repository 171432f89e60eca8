"""How the chat scales inside a cluster, read from Kubernetes objects. Pure: the objects
come in as the API serves them (autoscaling/v2 HPA, pods, nodes, cluster-autoscaler's
status ConfigMap) and go out as plain summaries for `escala describe cluster`.
"""

import dataclasses
from collections import Counter
from typing import Any

import yaml

from escala.kube.manifests import ZONE

Obj = dict[str, Any]
AUTOSCALER_STATUS = "cluster-autoscaler-status"  # the ConfigMap it writes in its namespace


@dataclasses.dataclass(frozen=True)
class HpaStatus:
    name: str
    min: int | None
    max: int | None
    current: int | None
    desired: int | None
    metrics: list[str]  # "cpu: 41% / 60%", "escala_chat_connected_clients: 230 / 500"
    conditions: list[str]  # "AbleToScale True ReadyForNewScale: recommended size matches..."

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _metric_name(metric: Obj) -> tuple[str, str]:
    kind = str(metric.get("type", ""))
    body = metric.get(kind[:1].lower() + kind[1:], {}) if kind else {}
    if kind in ("Resource", "ContainerResource"):
        return kind, str(body.get("name", ""))
    return kind, str((body.get("metric") or {}).get("name", ""))


def _value(measure: Obj) -> str:
    if "averageUtilization" in measure:
        return f"{measure['averageUtilization']}%"
    for key in ("averageValue", "value"):
        if key in measure:
            return str(measure[key])
    return "<unknown>"


def hpa_status(hpa: Obj) -> HpaStatus:
    """Replicas, each metric's current value against its target (`<unknown>` until the
    metrics API has answered, as kubectl shows it), and the HPA's conditions."""
    spec, status = hpa.get("spec", {}), hpa.get("status", {})
    current = {_metric_name(m): m for m in status.get("currentMetrics") or []}
    metrics = []
    for wanted in spec.get("metrics") or []:
        key = _metric_name(wanted)
        kind = key[0][:1].lower() + key[0][1:]
        target = (wanted.get(kind) or {}).get("target", {})
        live = (current.get(key, {}).get(kind) or {}).get("current", {})
        metrics.append(f"{key[1]}: {_value(live) if live else '<unknown>'} / {_value(target)}")
    conditions = [
        f"{c.get('type')} {c.get('status')} {c.get('reason', '')}: {c.get('message', '')}".strip()
        for c in status.get("conditions") or []
    ]
    return HpaStatus(
        name=str(hpa.get("metadata", {}).get("name", "")),
        min=spec.get("minReplicas"),
        max=spec.get("maxReplicas"),
        current=status.get("currentReplicas"),
        desired=status.get("desiredReplicas"),
        metrics=metrics,
        conditions=conditions,
    )


def _ready(pod: Obj) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pods_per_zone(pods: list[Obj], nodes: list[Obj]) -> dict[str, dict[str, int]]:
    """zone -> {"ready": n, "notReady": n}; pods not bound to a node count under
    `(pending)`, those on a node without a zone label under `(no zone)`."""
    zones = {
        n["metadata"]["name"]: n["metadata"].get("labels", {}).get(ZONE, "(no zone)") for n in nodes
    }
    counts: dict[str, Counter[str]] = {}
    for pod in pods:
        node = pod.get("spec", {}).get("nodeName")
        zone = zones.get(node, "(no zone)") if node else "(pending)"
        counts.setdefault(zone, Counter())["ready" if _ready(pod) else "notReady"] += 1
    return {
        zone: {"ready": c["ready"], "notReady": c["notReady"]} for zone, c in sorted(counts.items())
    }


def autoscaler_status(config_map: Obj) -> dict[str, Any]:
    """cluster-autoscaler's status: its YAML form (1.30 and later) as data, the older
    plain-text form as its lines."""
    text = str(config_map.get("data", {}).get("status", ""))
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        parsed = None
    if isinstance(parsed, dict) and "autoscalerStatus" in parsed:
        return parsed
    return {"text": [line for line in text.splitlines() if line.strip()]}


def autoscaler_summary(status: dict[str, Any]) -> list[str]:
    """A few lines a person reads: health and scale-up/down per node group."""
    if "text" in status:
        return list(status["text"])
    health = (status.get("clusterWide") or {}).get("health") or {}
    lines = [
        f"autoscaler {status.get('autoscalerStatus', '?')}, cluster {health.get('status', '?')}"
    ]
    for group in status.get("nodeGroups") or []:
        g_health = group.get("health") or {}
        registered = (g_health.get("nodeCounts") or {}).get("registered") or {}
        lines.append(
            f"{group.get('name')}: {g_health.get('status', '?')}, ready "
            f"{registered.get('ready', '?')}/{registered.get('total', '?')}, target "
            f"{g_health.get('cloudProviderTarget', '?')} (min {g_health.get('minSize', '?')}, "
            f"max {g_health.get('maxSize', '?')}), scale-up "
            f"{(group.get('scaleUp') or {}).get('status', '?')}, scale-down "
            f"{(group.get('scaleDown') or {}).get('status', '?')}"
        )
    return lines
