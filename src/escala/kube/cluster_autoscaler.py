"""cluster-autoscaler for an escala cluster: the node half of the Kubernetes scaling case.

The HPA adds chat pods; when they do not fit, they stay Pending, and cluster-autoscaler
raises the desired capacity of a node group's Auto Scaling Group (up to its maxSize);
when nodes sit idle it removes them. It finds the groups by the tags escala's model puts
on node ASGs (`escala.model.cluster.instance_groups`), never by name, so new instance groups
are picked up without redeploying it.

It runs on the control-plane nodes (toleration + node selector) because their instance
role holds the autoscaling write actions (`escala.model.cluster.iam_roles`); node instances do not.
Pure functions, no I/O; the manifests follow the upstream AWS example, with the image
whose minor matches the cluster's Kubernetes minor, as upstream requires.
"""

from escala.errors import UsageError
from escala.kube.objects import (
    RBAC,
    SYSTEM,
    Obj,
    binding,
    container_security,
    deployment,
    labels,
    metadata,
    pod_security,
    rule,
    service_account,
)
from escala.kube.versions import minor_of

NAME = "cluster-autoscaler"
UID = 65534  # nobody, as upstream runs it
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

_LABELS = labels(NAME)


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


def cluster_role() -> Obj:
    watch = ["watch", "list", "get"]
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": metadata(NAME, None, _LABELS),
        "rules": [
            rule([""], ["events", "endpoints"], ["create", "patch"]),
            rule([""], ["pods/eviction"], ["create"]),
            rule([""], ["pods/status"], ["update"]),
            rule([""], ["endpoints"], ["get", "update"], resourceNames=[NAME]),
            rule([""], ["nodes"], [*watch, "update"]),
            rule(
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
            rule(["extensions"], ["replicasets", "daemonsets"], watch),
            rule(["policy"], ["poddisruptionbudgets"], ["watch", "list"]),
            rule(["apps"], ["statefulsets", "replicasets", "daemonsets"], watch),
            rule(
                ["storage.k8s.io"],
                ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities"],
                watch,
            ),
            rule(["batch", "extensions"], ["jobs"], ["get", "list", "watch", "patch"]),
            rule(["coordination.k8s.io"], ["leases"], ["create"]),
            rule(["coordination.k8s.io"], ["leases"], ["get", "update"], resourceNames=[NAME]),
        ],
    }


def role() -> Obj:
    """Its status and priority-expander ConfigMaps in kube-system."""
    return {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": metadata(NAME, SYSTEM, _LABELS),
        "rules": [
            rule([""], ["configmaps"], ["create", "list", "watch"]),
            rule(
                [""],
                ["configmaps"],
                ["delete", "get", "update", "watch"],
                resourceNames=["cluster-autoscaler-status", "cluster-autoscaler-priority-expander"],
            ),
        ],
    }


def ca_deployment(cluster_name: str, kubernetes_version: str, region: str) -> Obj:
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
        "securityContext": container_security(),
    }
    pod = {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": NAME,
        "securityContext": pod_security(UID),
        "nodeSelector": {CONTROL_PLANE: ""},
        "tolerations": [{"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}],
        "containers": [container],
    }
    return deployment(metadata(NAME, SYSTEM, _LABELS), pod)


def cluster_autoscaler(cluster_name: str, kubernetes_version: str, region: str) -> list[Obj]:
    """ServiceAccount, RBAC and Deployment, in the order they can be created."""
    return [
        service_account(NAME, _LABELS),
        cluster_role(),
        role(),
        binding(NAME, "ClusterRole", NAME, NAME, _LABELS),
        binding(NAME, "Role", NAME, NAME, _LABELS, namespace=SYSTEM),
        ca_deployment(cluster_name, kubernetes_version, region),
    ]
