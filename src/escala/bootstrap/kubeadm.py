"""kubeadm configuration documents for each role, as plain dicts: v1beta4, or v1beta3 where
a kubeadm that cannot read v1beta4 will read them.

Values only the instance knows (its node name, the join token, the API endpoint, the
CA hash) are `${VAR}` placeholders that the boot script fills with `envsubst` after
fetching them through the instance role: nothing secret is in the user-data itself.
"""

from typing import Any

from escala.api import Cluster

# kubeadm reads v1beta4 from 1.31 (its list-form extraArgs are the change that matters
# here) and v1beta3 up to 1.36 (kubeadm-config.v1beta4 reference; kind switches at 1.36).
# A node joins with the kubeadm of the release the cluster runs, one minor behind the spec
# during an upgrade (bootstrap.sh's join_version), so v1beta4 only where that one reads it.
V1BETA4 = "kubeadm.k8s.io/v1beta4"
V1BETA3 = "kubeadm.k8s.io/v1beta3"
V1BETA4_FROM_MINOR = 32
BOOTSTRAP_API = "bootstraptoken/v1"
# The data dir lives on the master's own etcd EBS volume, mounted at ETCD_MOUNT; a
# subdirectory keeps the filesystem's lost+found out of etcd's way.
ETCD_MOUNT = "/var/lib/etcd"
ETCD_DATA_DIR = f"{ETCD_MOUNT}/main"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
# The kubelet's image credential provider for ECR (built-in providers went in 1.27): the
# boot script installs cloud-provider-aws's ecr-credential-provider binary here, and the
# kubelet asks it for a token, with the instance role, for every ECR image it pulls.
CREDENTIAL_PROVIDER_DIR = "/etc/kubernetes/image-credential-provider"
CREDENTIAL_PROVIDER_CONFIG = f"{CREDENTIAL_PROVIDER_DIR}/config.yaml"
ECR_CREDENTIAL_PROVIDER = "ecr-credential-provider"
# The hosts ECR serves images from (kubelet globs match one DNS label per `*`).
ECR_IMAGES = ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"]
# Placeholders filled on the instance by the boot script.
NODE_NAME = "${NODE_NAME}"
API_ENDPOINT = "${API_ENDPOINT}"
BOOTSTRAP_TOKEN = "${BOOTSTRAP_TOKEN}"
CA_CERT_HASH = "${CA_CERT_HASH}"


def kubernetes_version(cluster: Cluster) -> str:
    """`1.33.5` (the spec may write `v1.33.5`)."""
    return str(cluster.spec.kubernetes_version or "").removeprefix("v")


def kubeadm_api(cluster: Cluster) -> str:
    """The configuration API version every kubeadm that may read the documents reads."""
    minor = int(kubernetes_version(cluster).split(".")[1])
    return V1BETA4 if minor >= V1BETA4_FROM_MINOR else V1BETA3


def _args(api: str, pairs: list[tuple[str, str]]) -> list[dict[str, str]] | dict[str, str]:
    """Component arguments: v1beta4 lists `{name, value}` (a flag may repeat), v1beta3
    maps a flag to its value."""
    if api == V1BETA3:
        return dict(pairs)
    return [{"name": name, "value": value} for name, value in pairs]


def parse_taint(taint: str) -> dict[str, str]:
    """`key=value:Effect` (validated by escala.api.validation) -> a kubeadm taint."""
    key_value, _, effect = taint.rpartition(":")
    key, _, value = key_value.partition("=")
    return {"key": key, **({"value": value} if value else {}), "effect": effect}


def _node_registration(
    api: str, labels: dict[str, str], taint_control_plane: bool, taints: list[str] | None = None
) -> dict[str, Any]:
    kubelet_args = [
        # the AWS cloud-controller-manager sets providerID, addresses and routes
        ("cloud-provider", "external"),
        ("image-credential-provider-config", CREDENTIAL_PROVIDER_CONFIG),
        ("image-credential-provider-bin-dir", CREDENTIAL_PROVIDER_DIR),
    ]
    if labels:
        kubelet_args.append(
            ("node-labels", ",".join(f"{k}={v}" for k, v in sorted(labels.items())))
        )
    registration: dict[str, Any] = {
        "name": NODE_NAME,
        "criSocket": CRI_SOCKET,
        "kubeletExtraArgs": _args(api, kubelet_args),
    }
    wanted = [parse_taint(t) for t in taints or []]
    if taint_control_plane:
        wanted.insert(0, {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    if wanted:
        registration["taints"] = wanted
    return registration


def credential_provider_config() -> dict[str, Any]:
    """The kubelet's CredentialProviderConfig: ECR images get their pull token from
    ecr-credential-provider (cloud-provider-aws), cached for its 12-hour life."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [
            {
                "name": ECR_CREDENTIAL_PROVIDER,
                "matchImages": ECR_IMAGES,
                "defaultCacheDuration": "12h",
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            }
        ],
    }


def init_configuration(
    cluster: Cluster, labels: dict[str, str] | None = None, taints: list[str] | None = None
) -> dict[str, Any]:
    """The first master's InitConfiguration: its bootstrap token never expires (ttl 0)
    so instances launched later by the ASG can still join, as kops nodes can."""
    api = kubeadm_api(cluster)
    return {
        "apiVersion": api,
        "kind": "InitConfiguration",
        "bootstrapTokens": [
            {
                "token": BOOTSTRAP_TOKEN,
                "description": "escala: instances of this cluster's auto scaling groups",
                "ttl": "0s",
                "usages": ["signing", "authentication"],
                "groups": ["system:bootstrappers:kubeadm:default-node-token"],
            }
        ],
        "nodeRegistration": _node_registration(api, labels or {}, True, taints),
    }


def cluster_configuration(cluster: Cluster) -> dict[str, Any]:
    """The ClusterConfiguration every master shares: the NLB as the endpoint, stacked
    etcd on the EBS volume, and the spec's pod and service ranges."""
    spec = cluster.spec
    api = kubeadm_api(cluster)
    return {
        "apiVersion": api,
        "kind": "ClusterConfiguration",
        "clusterName": cluster.name,
        "kubernetesVersion": f"v{kubernetes_version(cluster)}",
        "controlPlaneEndpoint": f"{API_ENDPOINT}:443",
        "certificatesDir": "/etc/kubernetes/pki",
        "etcd": {"local": {"dataDir": ETCD_DATA_DIR}},
        "networking": {
            "podSubnet": str(spec.pod_cidr),
            "serviceSubnet": str(spec.service_cluster_ip_range),
            "dnsDomain": "cluster.local",
        },
        "apiServer": {
            "certSANs": [API_ENDPOINT],
            "extraArgs": _args(api, [("authorization-mode", _authorization(cluster))]),
        },
        "controllerManager": {
            # node pod CIDRs are allocated here; routes are the cloud-controller-manager's
            "extraArgs": _args(
                api, [("allocate-node-cidrs", "true"), ("configure-cloud-routes", "false")]
            )
        },
    }


def _authorization(cluster: Cluster) -> str:
    return "Node,RBAC" if cluster.spec.authorization.value == "RBAC" else "AlwaysAllow"


def join_configuration(
    cluster: Cluster,
    control_plane: bool,
    labels: dict[str, str] | None = None,
    taints: list[str] | None = None,
) -> dict[str, Any]:
    """A JoinConfiguration through token discovery pinned to the CA's public key hash.

    Masters join with `controlPlane` set and the CA material already in place
    (kubeadm's manual certificate distribution), so no certificateKey is used.
    """
    api = kubeadm_api(cluster)
    doc: dict[str, Any] = {
        "apiVersion": api,
        "kind": "JoinConfiguration",
        "nodeRegistration": _node_registration(api, labels or {}, control_plane, taints),
        "discovery": {
            "bootstrapToken": {
                "token": BOOTSTRAP_TOKEN,
                "apiServerEndpoint": f"{API_ENDPOINT}:443",
                "caCertHashes": [CA_CERT_HASH],
            }
        },
    }
    if control_plane:
        doc["controlPlane"] = {"localAPIEndpoint": {"bindPort": 6443}}
    return doc
