"""`escala deploy chat` / `escala delete chat`: put the chat and its autoscalers on a cluster.

The manifests come from `escala.kube.manifests`, `escala.kube.metrics_server` and
`escala.kube.cluster_autoscaler`;
this module only decides what to send. Applying is idempotent: objects are created, or
replaced when they differ, and a second run with the same flags changes nothing. The one
field escala does not own after the first run is the chat Deployment's replica count,
which belongs to the HorizontalPodAutoscaler from then on.
"""

from collections.abc import Callable
from dataclasses import dataclass

from escala.api.chat_deployment import ChatDeployment
from escala.kube.client import KubeClient, Obj
from escala.kube.cluster_autoscaler import cluster_autoscaler
from escala.kube.manifests import CHAT, chat_app, chat_service
from escala.kube.metrics_server import metrics_server


@dataclass(frozen=True)
class Applied:
    """What happened to one object: created, replaced, unchanged or deleted/absent."""

    kind: str
    namespace: str
    name: str
    result: str


def desired(chat: ChatDeployment) -> list[Obj]:
    """Every object `deploy chat` writes, in creation order: the cluster's add-ons in
    kube-system first (metrics-server, which the HPA reads CPU from, and
    cluster-autoscaler), then the chat app."""
    spec = chat.spec
    ca = cluster_autoscaler(chat.cluster_name, spec.kubernetes_version, spec.region)
    return [*metrics_server(), *ca, *chat_app(chat)]


def deploy(
    kube: KubeClient, objects: list[Obj], progress: Callable[[Applied], None] = lambda _: None
) -> list[Applied]:
    """Apply `objects` in order; the chat Deployment keeps its live replica count."""
    out = []
    for obj in objects:
        keep = ("spec", "replicas") if _is_chat_deployment(obj) else ()
        done = _applied(obj, kube.apply(obj, keep))
        progress(done)
        out.append(done)
    return out


def chat_address(kube: KubeClient, chat: ChatDeployment) -> str | None:
    """The chat's URL once the cloud-controller-manager has given its Service a load
    balancer (`status.loadBalancer.ingress`), else None (still being created)."""
    live = kube.get(chat_service(chat)) or {}
    for ingress in live.get("status", {}).get("loadBalancer", {}).get("ingress", []):
        host = ingress.get("hostname") or ingress.get("ip")
        if host:
            return f"http://{host}/"
    return None


def would_delete(kube: KubeClient, objects: list[Obj]) -> list[Applied]:
    """What `undeploy` would delete, in its order: the dry run of `delete chat` reads the
    API, so it lists what is there (absent objects say so) and fails as `--yes` would."""
    return [
        _applied(obj, "would delete" if kube.get(obj) is not None else "absent")
        for obj in reversed(objects)
    ]


def undeploy(
    kube: KubeClient, objects: list[Obj], progress: Callable[[Applied], None] = lambda _: None
) -> list[Applied]:
    """Delete `objects` in reverse creation order (the namespace last)."""
    out = []
    for obj in reversed(objects):
        done = _applied(obj, "deleted" if kube.delete(obj) else "absent")
        progress(done)
        out.append(done)
    return out


def _applied(obj: Obj, result: str) -> Applied:
    meta = obj["metadata"]
    return Applied(obj["kind"], meta.get("namespace", ""), meta["name"], result)


def _is_chat_deployment(obj: Obj) -> bool:
    return obj["kind"] == "Deployment" and obj["metadata"]["name"] == CHAT
