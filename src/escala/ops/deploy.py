"""`escala deploy chat` / `escala delete chat`: put the chat and its autoscalers on a cluster.

The manifests come from `escala.kube.manifests` (the chat) and `escala.kube.addons` (the
cluster's add-ons); this module only decides what to send. Applying is idempotent:
objects are created, or replaced when they differ, and a second run with the same flags
changes nothing. The one field escala does not own after the first run is the chat
Deployment's replica count, which belongs to the HorizontalPodAutoscaler from then on.

What was asked is kept in the state store (`<cluster>/chatdeployment`) once it is
applied, and the next deploy starts from it: a flag not given keeps its earlier value
instead of falling back to the default, and `escala simulate cluster/NAME` reads the
HPA's numbers from it.
"""

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from escala.api.chat_deployment import ChatDeployment, asked
from escala.cloud.aws.tags import csi_volume_tags
from escala.kube import chat_database
from escala.kube.addons import cluster_addons
from escala.kube.client import KubeClient, Obj
from escala.kube.manifests import CHAT, NAMESPACE, chat_app, chat_service
from escala.kube.versions import latest
from escala.ops.image import check_image_owner, pushed_image
from escala.state import StateStore


@dataclass(frozen=True)
class Applied:
    """What happened to one object: created, replaced, unchanged or deleted/absent."""

    kind: str
    namespace: str
    name: str
    result: str


@dataclass(frozen=True)
class Asked:
    """The cluster's ChatDeployment as asked, and which of its fields came from the
    stored one rather than from this run's flags (by Python name)."""

    chat: ChatDeployment
    kept: dict[str, object]


def asked_for(store: StateStore, cluster_name: str, given: Mapping[str, object]) -> Asked:
    """The stored ChatDeployment's fields with `given` (the flags given, by Python name)
    over them; the Kubernetes version and region are the cluster's completed spec's, as
    they are now (an upgraded cluster gets its cluster-autoscaler release)."""
    cluster = store.get_cluster(cluster_name, completed=True).spec
    stored = store.get_chat_deployment(cluster_name)
    kept = {k: v for k, v in asked(stored).items() if k not in given} if stored else {}
    chat = ChatDeployment.for_cluster(
        cluster_name,
        str(cluster.kubernetes_version or latest()),
        str(cluster.region or ""),
        **kept,
        **given,
    )
    return Asked(chat, kept)


def with_image(store: StateStore, chat: ChatDeployment) -> ChatDeployment:
    """`chat` as it runs: with no image asked, the one last pushed for the cluster
    (refused, naming the way out, when none was); refused in another owner's repository."""
    spec = chat.spec
    image = spec.image
    if "image" not in spec.model_fields_set:
        image = pushed_image(store, "Cluster", chat.cluster_name, "--image")
    check_image_owner(image, "Cluster", chat.cluster_name, "--image")
    return chat.model_copy(update={"spec": spec.model_copy(update={"image": image})})


def desired(chat: ChatDeployment) -> list[Obj]:
    """Every object `deploy chat` writes, in creation order: the cluster's add-ons first
    (the HPA's metrics, cluster-autoscaler, the EBS CSI driver and StorageClasses the
    chat's database claims its volume from), then the chat app."""
    spec = chat.spec
    volume_tags = csi_volume_tags(chat.cluster_name)
    addons = cluster_addons(chat.cluster_name, spec.kubernetes_version, spec.region, volume_tags)
    return [*addons, *chat_app(chat)]


def deployed_objects(chat: ChatDeployment) -> list[Obj]:
    """What `deploy chat` made of the app, in creation order: `chat_app` and, when escala
    runs the database, its Secret (named only: `delete chat` deletes it)."""
    app = chat_app(chat)
    if not any(_is_database(obj) for obj in app):
        return app
    return [app[0], chat_database.database_secret(NAMESPACE, ""), *app[1:]]


def deploy(
    kube: KubeClient, objects: list[Obj], progress: Callable[[Applied], None] = lambda _: None
) -> list[Applied]:
    """Apply `objects` in order; the chat Deployment keeps its live replica count, and
    the chat's PostgreSQL gets its Secret (made once) just before it."""
    out = []
    for obj in objects:
        if _is_database(obj):
            made = ensure_database_secret(kube, obj["metadata"]["namespace"])
            progress(made)
            out.append(made)
        keep = ("spec", "replicas") if _is_chat_deployment(obj) else ()
        done = _applied(obj, kube.apply(obj, keep))
        progress(done)
        out.append(done)
    return out


def ensure_database_secret(kube: KubeClient, namespace: str) -> Applied:
    """The PostgreSQL credentials: generated on the first deploy and kept ever after (the
    database on the volume was initialised with them). Never printed."""
    if kube.get(chat_database.database_secret(namespace, "")) is not None:
        return Applied("Secret", namespace, chat_database.SECRET, "kept")
    secret = chat_database.database_secret(namespace, secrets.token_urlsafe(24))
    return _applied(secret, kube.apply(secret))


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


def _is_database(obj: Obj) -> bool:
    return obj["kind"] == "StatefulSet" and obj["metadata"]["name"] == chat_database.NAME


def _is_chat_deployment(obj: Obj) -> bool:
    return obj["kind"] == "Deployment" and obj["metadata"]["name"] == CHAT
