"""Small builders for the Kubernetes objects escala writes, shared by the chat's
manifests and the add-ons it needs (cluster-autoscaler, metrics-server), so every object
is labelled, bound and locked down the same way. Pure functions returning dicts."""

from typing import Any

Obj = dict[str, Any]

RBAC = "rbac.authorization.k8s.io/v1"
SYSTEM = "kube-system"


def labels(name: str, part_of: str | None = None) -> dict[str, str]:
    """The recommended app.kubernetes.io labels; `name` alone selects pods."""
    out = {"app.kubernetes.io/name": name}
    if part_of:
        out["app.kubernetes.io/part-of"] = part_of
    out["app.kubernetes.io/managed-by"] = "escala"
    return out


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


def metadata(name: str, namespace: str | None, obj_labels: dict[str, str]) -> Obj:
    meta: Obj = {"name": name, "labels": dict(obj_labels)}
    if namespace:
        meta["namespace"] = namespace
    return meta


def rule(groups: list[str], resources: list[str], verbs: list[str], **extra: list[str]) -> Obj:
    """One RBAC policy rule (`extra`: resourceNames)."""
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **extra}


def service_account(name: str, obj_labels: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(name, SYSTEM, obj_labels),
    }


def binding(
    name: str,
    role_kind: str,
    role: str,
    account: str,
    obj_labels: dict[str, str],
    namespace: str | None = None,
) -> Obj:
    """A RoleBinding in `namespace` (ClusterRoleBinding without one) of the kube-system
    service account `account` to `role`."""
    return {
        "apiVersion": RBAC,
        "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
        "metadata": metadata(name, namespace, obj_labels),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": SYSTEM}],
    }


def pod_security(uid: int) -> Obj:
    """Non-root with the runtime's default seccomp profile (the "restricted" standard)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> Obj:
    """No privilege escalation, no capabilities, a read-only root filesystem."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def deployment(meta: Obj, pod_spec: Obj, replicas: int = 1, **spec: Any) -> Obj:
    """An apps/v1 Deployment whose pods carry `meta`'s labels and are selected by their
    name label; `spec` adds fields such as `strategy`."""
    pod_labels = meta["labels"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector(pod_labels["app.kubernetes.io/name"])},
            **spec,
            "template": {"metadata": {"labels": dict(pod_labels)}, "spec": pod_spec},
        },
    }


def service(meta: Obj, ports: list[Obj], **spec: Any) -> Obj:
    """A v1 Service in front of the pods named like `meta`'s name label."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            **spec,
            "selector": selector(meta["labels"]["app.kubernetes.io/name"]),
            "ports": ports,
        },
    }


def cluster_role(name: str, obj_labels: dict[str, str], rules: list[Obj]) -> Obj:
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": metadata(name, None, obj_labels),
        "rules": rules,
    }


def daemon_set(meta: Obj, pod_spec: Obj, **spec: Any) -> Obj:
    """An apps/v1 DaemonSet whose pods carry `meta`'s labels, selected by their name label."""
    pod_labels = meta["labels"]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": meta,
        "spec": {
            "selector": {"matchLabels": selector(pod_labels["app.kubernetes.io/name"])},
            **spec,
            "template": {"metadata": {"labels": dict(pod_labels)}, "spec": pod_spec},
        },
    }
