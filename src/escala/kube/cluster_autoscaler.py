"""cluster-autoscaler for an escala cluster: the node half of the Kubernetes scaling case.

The HPA adds chat pods; when they do not fit, they stay Pending, and cluster-autoscaler
raises the desired capacity of a node group's Auto Scaling Group (up to its maxSize);
when nodes sit idle it removes them. It finds the groups by the tags escala's model puts
on node ASGs (`escala.model.instance_groups`), never by name, so new instance groups
are picked up without redeploying it.

It runs on the control-plane nodes (toleration + node selector) because their instance
role holds the autoscaling write actions (`escala.model.iam`); node instances do not.
Pure functions, no I/O; the manifests follow the upstream AWS example, with the image
whose minor matches the cluster's Kubernetes minor, as upstream requires.
"""

from escala.errors import UsageError
from escala.kube.manifests import Obj
from escala.kube.versions import minor_of

NAME = "cluster-autoscaler"
NAMESPACE = "kube-system"
IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
ENABLED_TAG = "k8s.io/cluster-autoscaler/enabled"

# Kubernetes minor -> the cluster-autoscaler release built for it (a patch of the same
# minor). Keep one line per minor of escala.kube.versions.SUPPORTED.
RELEASES: dict[str, str] = {
    "1.29": "1.29.5",
    "1.30": "1.30.3",
    "1.31": "1.31.1",
    "1.32": "1.32.7",
    "1.33": "1.33.6",
}

_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/managed-by": "escala"}
_RBAC = "rbac.authorization.k8s.io/v1"


def discovery_tags(cluster_name: str) -> list[str]:
    """The ASG tag keys cluster-autoscaler looks for (both must be present)."""
    return [ENABLED_TAG, f"k8s.io/cluster-autoscaler/{cluster_name}"]


def image_for(kubernetes_version: str) -> str:
    minor = minor_of(kubernetes_version)
    if minor not in RELEASES:
        known = ", ".join(RELEASES)
        raise UsageError(
            f"kubernetesVersion {kubernetes_version}: no cluster-autoscaler release known "
            f"for {minor} (knows {known}); upgrade the cluster or escala"
        )
    return f"{IMAGE}:v{RELEASES[minor]}"


def args(cluster_name: str) -> list[str]:
    return [
        "--cloud-provider=aws",
        "--node-group-auto-discovery=asg:tag=" + ",".join(discovery_tags(cluster_name)),
        "--balance-similar-node-groups",
        # system pods (coredns, the chat's own kube-system add-ons) must not pin a node
        "--skip-nodes-with-system-pods=false",
        "--skip-nodes-with-local-storage=false",
        "--expander=least-waste",
        "--stderrthreshold=info",
        "--v=2",
    ]


def _meta(name: str = NAME, namespaced: bool = True) -> Obj:
    meta: Obj = {"name": name, "labels": dict(_LABELS)}
    if namespaced:
        meta["namespace"] = NAMESPACE
    return meta


def _rule(groups: list[str], resources: list[str], verbs: list[str], **extra: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **extra}


def cluster_role() -> Obj:
    watch = ["watch", "list", "get"]
    return {
        "apiVersion": _RBAC,
        "kind": "ClusterRole",
        "metadata": _meta(namespaced=False),
        "rules": [
            _rule([""], ["events", "endpoints"], ["create", "patch"]),
            _rule([""], ["pods/eviction"], ["create"]),
            _rule([""], ["pods/status"], ["update"]),
            _rule([""], ["endpoints"], ["get", "update"], resourceNames=[NAME]),
            _rule([""], ["nodes"], [*watch, "update"]),
            _rule(
                [""],
                [
                    "namespaces",
                    "pods",
                    "services",
                    "replicationcontrollers",
                    "persistentvolumeclaims",
                    "persistentvolumes",
                ],
                watch,
            ),
            _rule(["extensions"], ["replicasets", "daemonsets"], watch),
            _rule(["policy"], ["poddisruptionbudgets"], ["watch", "list"]),
            _rule(["apps"], ["statefulsets", "replicasets", "daemonsets"], watch),
            _rule(
                ["storage.k8s.io"],
                ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities"],
                watch,
            ),
            _rule(["batch", "extensions"], ["jobs"], ["get", "list", "watch", "patch"]),
            _rule(["coordination.k8s.io"], ["leases"], ["create"]),
            _rule(["coordination.k8s.io"], ["leases"], ["get", "update"], resourceNames=[NAME]),
        ],
    }


def role() -> Obj:
    """Its status and priority-expander ConfigMaps in kube-system."""
    return {
        "apiVersion": _RBAC,
        "kind": "Role",
        "metadata": _meta(),
        "rules": [
            _rule([""], ["configmaps"], ["create", "list", "watch"]),
            _rule(
                [""],
                ["configmaps"],
                ["delete", "get", "update", "watch"],
                resourceNames=["cluster-autoscaler-status", "cluster-autoscaler-priority-expander"],
            ),
        ],
    }


def _binding(kind: str, role_kind: str, namespaced: bool) -> Obj:
    return {
        "apiVersion": _RBAC,
        "kind": kind,
        "metadata": _meta(namespaced=namespaced),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": NAME},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
    }


def deployment(cluster_name: str, kubernetes_version: str, region: str) -> Obj:
    """One replica on a control-plane node; AWS_REGION is given because pods cannot
    rely on reaching the instance metadata for it."""
    container = {
        "name": NAME,
        "image": image_for(kubernetes_version),
        "command": ["./cluster-autoscaler", *args(cluster_name)],
        "env": [{"name": "AWS_REGION", "value": region}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "600Mi"},
            "limits": {"cpu": "100m", "memory": "600Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    selector = {"app.kubernetes.io/name": NAME}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": dict(_LABELS)},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": NAME,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65534,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "nodeSelector": {CONTROL_PLANE: ""},
                    "tolerations": [
                        {"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}
                    ],
                    "containers": [container],
                },
            },
        },
    }


def cluster_autoscaler(cluster_name: str, kubernetes_version: str, region: str) -> list[Obj]:
    """ServiceAccount, RBAC and Deployment, in the order they can be created."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta()},
        cluster_role(),
        role(),
        _binding("ClusterRoleBinding", "ClusterRole", namespaced=False),
        _binding("RoleBinding", "Role", namespaced=True),
        deployment(cluster_name, kubernetes_version, region),
    ]
