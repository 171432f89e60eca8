"""metrics-server: the resource metrics API (`metrics.k8s.io`) the HPA reads CPU from.

escala's clusters install only the AWS cloud-controller-manager as an add-on, and
without this API a CPU HorizontalPodAutoscaler reports `<unknown>` and never scales,
so `escala deploy chat` installs it in kube-system beside cluster-autoscaler. The
objects follow upstream's release manifests (kubernetes-sigs/metrics-server).

`--kubelet-insecure-tls`: kubeadm's kubelets serve a self-signed certificate (escala
does not turn on `serverTLSBootstrap`), which metrics-server could not verify; the
connection is still TLS, to the node's InternalIP, inside the cluster's VPC.
"""

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
    service,
    service_account,
)

NAME = "metrics-server"
IMAGE = "registry.k8s.io/metrics-server/metrics-server:v0.8.0"
PORT = 10250
UID = 1000
READER = "system:aggregated-metrics-reader"

_LABELS = labels(NAME)


def cluster_roles() -> list[Obj]:
    """What metrics-server reads, and read access to its API for view/edit/admin."""
    aggregate = {
        f"rbac.authorization.k8s.io/aggregate-to-{role}": "true"
        for role in ("view", "edit", "admin")
    }
    reader_meta = metadata(READER, None, {**_LABELS, **aggregate})
    watch = ["get", "list", "watch"]
    return [
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": reader_meta,
            "rules": [rule(["metrics.k8s.io"], ["pods", "nodes"], watch)],
        },
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": metadata(f"system:{NAME}", None, _LABELS),
            "rules": [rule([""], ["nodes/metrics"], ["get"]), rule([""], ["pods", "nodes"], watch)],
        },
    ]


def bindings() -> list[Obj]:
    """Its own ClusterRole, token review for callers (auth-delegator), and the
    API server's client-CA ConfigMap in kube-system (authentication-reader)."""
    return [
        binding(f"system:{NAME}", "ClusterRole", f"system:{NAME}", NAME, _LABELS),
        binding(
            f"{NAME}:system:auth-delegator", "ClusterRole", "system:auth-delegator", NAME, _LABELS
        ),
        binding(
            f"{NAME}-auth-reader",
            "Role",
            "extension-apiserver-authentication-reader",
            NAME,
            _LABELS,
            namespace=SYSTEM,
        ),
    ]


def ms_deployment() -> Obj:
    probe = {"port": "https", "scheme": "HTTPS"}
    container = {
        "name": NAME,
        "image": IMAGE,
        "args": [
            "--cert-dir=/tmp",
            f"--secure-port={PORT}",
            "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
            "--kubelet-use-node-status-port",
            "--kubelet-insecure-tls",
            "--metric-resolution=15s",
        ],
        "ports": [{"name": "https", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {
            "httpGet": {"path": "/readyz", **probe},
            "initialDelaySeconds": 20,
            "periodSeconds": 10,
        },
        "livenessProbe": {"httpGet": {"path": "/livez", **probe}, "periodSeconds": 10},
        "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    pod = {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": NAME,
        "securityContext": pod_security(UID),
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    meta = metadata(NAME, SYSTEM, _LABELS)
    return deployment(meta, pod, strategy={"rollingUpdate": {"maxUnavailable": 0}})


def ms_service() -> Obj:
    port = {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}
    return service(metadata(NAME, SYSTEM, _LABELS), [port])


def api_service() -> Obj:
    """Registers `metrics.k8s.io/v1beta1` with the aggregation layer."""
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": metadata("v1beta1.metrics.k8s.io", None, _LABELS),
        "spec": {
            "service": {"name": NAME, "namespace": SYSTEM},
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
    }


def metrics_server() -> list[Obj]:
    """Every object, in the order they can be created (the APIService last, once the
    Service it points at exists)."""
    return [
        service_account(NAME, _LABELS),
        *cluster_roles(),
        *bindings(),
        ms_service(),
        ms_deployment(),
        api_service(),
    ]
