"""Every generated kubeadm document uses only the fields kubeadm's API documents, written
here as data: a typo or a field from another version fails the test. v1beta4
(https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/) for clusters
whose joining kubeadm reads it, v1beta3
(https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta3/) below."""

from typing import Any

import pytest
import yaml

from escala.api import Networking
from escala.bootstrap.cloudinit import kubeadm_configs
from tests.reconcile.specs import completed

ARG = {"name": None, "value": None}
ENDPOINT = {"advertiseAddress": None, "bindPort": None}
TAINT = {"key": None, "value": None, "effect": None, "timeAdded": None}
NODE_REGISTRATION = {
    "name": None,
    "criSocket": None,
    "taints": [TAINT],
    "kubeletExtraArgs": [ARG],
    "ignorePreflightErrors": None,
    "imagePullPolicy": None,
    "imagePullSerial": None,
}
COMPONENT = {"extraArgs": [ARG], "extraVolumes": None, "extraEnvs": None}
PATCHES = {"directory": None}
TIMEOUTS = dict.fromkeys(
    (
        "controlPlaneComponentHealthCheck",
        "kubeletHealthCheck",
        "kubernetesAPICall",
        "etcdAPICall",
        "tlsBootstrap",
        "discovery",
        "upgradeManifests",
    )
)
# Each kind's documented fields; a nested dict describes a struct, [dict] a list of them.
DOCUMENTED: dict[str, dict[str, Any]] = {
    "InitConfiguration": {
        "apiVersion": None,
        "kind": None,
        "bootstrapTokens": [
            dict.fromkeys(("token", "description", "ttl", "expires", "usages", "groups"))
        ],
        "dryRun": None,
        "nodeRegistration": NODE_REGISTRATION,
        "localAPIEndpoint": ENDPOINT,
        "certificateKey": None,
        "skipPhases": None,
        "patches": PATCHES,
        "timeouts": TIMEOUTS,
    },
    "ClusterConfiguration": {
        "apiVersion": None,
        "kind": None,
        "etcd": {
            "local": dict.fromkeys(
                (
                    "imageRepository",
                    "imageTag",
                    "dataDir",
                    "extraArgs",
                    "extraEnvs",
                    "serverCertSANs",
                    "peerCertSANs",
                )
            ),
            "external": dict.fromkeys(
                ("endpoints", "httpEndpoints", "caFile", "certFile", "keyFile")
            ),
        },
        "networking": dict.fromkeys(("serviceSubnet", "podSubnet", "dnsDomain")),
        "kubernetesVersion": None,
        "controlPlaneEndpoint": None,
        "apiServer": {**COMPONENT, "certSANs": None},
        "controllerManager": COMPONENT,
        "scheduler": COMPONENT,
        "dns": dict.fromkeys(("imageRepository", "imageTag", "disabled")),
        "proxy": dict.fromkeys(("disabled",)),
        "certificatesDir": None,
        "imageRepository": None,
        "featureGates": None,
        "clusterName": None,
        "encryptionAlgorithm": None,
        "certificateValidityPeriod": None,
        "caCertificateValidityPeriod": None,
    },
    "JoinConfiguration": {
        "apiVersion": None,
        "kind": None,
        "dryRun": None,
        "nodeRegistration": NODE_REGISTRATION,
        "caCertPath": None,
        "discovery": {
            "bootstrapToken": dict.fromkeys(
                ("token", "apiServerEndpoint", "caCertHashes", "unsafeSkipCAVerification")
            ),
            "file": dict.fromkeys(("kubeConfigPath",)),
            "tlsBootstrapToken": None,
        },
        "controlPlane": {"localAPIEndpoint": ENDPOINT, "certificateKey": None},
        "skipPhases": None,
        "patches": PATCHES,
        "timeouts": TIMEOUTS,
    },
}


# v1beta3: component and kubelet arguments are maps of flag to value; no timeouts,
# extraEnvs, imagePullSerial or certificate validity periods; discovery has a timeout.
MAP = "a map of strings"
NODE_REGISTRATION_V1BETA3 = {
    **{k: v for k, v in NODE_REGISTRATION.items() if k != "imagePullSerial"},
    "kubeletExtraArgs": MAP,
}
COMPONENT_V1BETA3 = {"extraArgs": MAP, "extraVolumes": None}
DOCUMENTED_V1BETA3: dict[str, dict[str, Any]] = {
    "InitConfiguration": {
        **{k: v for k, v in DOCUMENTED["InitConfiguration"].items() if k not in ("timeouts",)},
        "nodeRegistration": NODE_REGISTRATION_V1BETA3,
    },
    "ClusterConfiguration": {
        **{
            k: v
            for k, v in DOCUMENTED["ClusterConfiguration"].items()
            if k
            not in (
                "encryptionAlgorithm",
                "certificateValidityPeriod",
                "caCertificateValidityPeriod",
            )
        },
        "apiServer": {**COMPONENT_V1BETA3, "certSANs": None, "timeoutForControlPlane": None},
        "controllerManager": COMPONENT_V1BETA3,
        "scheduler": COMPONENT_V1BETA3,
        "dns": dict.fromkeys(("imageRepository", "imageTag")),
    },
    "JoinConfiguration": {
        **{k: v for k, v in DOCUMENTED["JoinConfiguration"].items() if k not in ("timeouts",)},
        "nodeRegistration": NODE_REGISTRATION_V1BETA3,
        "discovery": {**DOCUMENTED["JoinConfiguration"]["discovery"], "timeout": None},
    },
}


def undocumented(value: Any, schema: Any, path: str) -> list[str]:
    """Field paths in `value` that `schema` does not document."""
    if schema is MAP:
        strings = isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
        return [] if strings else [f"{path}: expected a map of strings"]
    if isinstance(schema, list):
        return [
            p for i, item in enumerate(value) for p in undocumented(item, schema[0], f"{path}[{i}]")
        ]
    if isinstance(schema, dict):
        assert isinstance(value, dict), f"{path}: expected a struct"
        problems = [f"{path}.{k}" for k in value if k not in schema]
        return problems + [
            p
            for k, v in value.items()
            if k in schema
            for p in undocumented(v, schema[k], f"{path}.{k}")
        ]
    return []


@pytest.mark.parametrize("networking", list(Networking))
def test_every_kubeadm_document_uses_documented_fields(networking) -> None:
    cluster, groups = completed(networking)
    kinds = set()
    for group in groups:
        for name, text in kubeadm_configs(cluster, group).items():
            for doc in yaml.safe_load_all(text):
                assert doc["apiVersion"] == "kubeadm.k8s.io/v1beta4"
                kinds.add(doc["kind"])
                assert undocumented(doc, DOCUMENTED[doc["kind"]], f"{group.name}/{name}") == []
    assert kinds == {"InitConfiguration", "ClusterConfiguration", "JoinConfiguration"}


@pytest.mark.parametrize("version", ["1.29.9", "1.30.4", "1.31.2"])
def test_a_cluster_whose_kubeadm_cannot_read_v1beta4_gets_v1beta3(version: str) -> None:
    """kubeadm reads v1beta4 from 1.31, and a node of a cluster upgrading to 1.31 joins
    with kubeadm 1.30 (bootstrap.sh's join_version): up to 1.31, v1beta3, with the same
    arguments as maps."""
    cluster, groups = completed()
    cluster.spec.kubernetes_version = version
    for group in groups:
        for name, text in kubeadm_configs(cluster, group).items():
            for doc in yaml.safe_load_all(text):
                assert doc["apiVersion"] == "kubeadm.k8s.io/v1beta3"
                where = f"{group.name}/{name}"
                assert undocumented(doc, DOCUMENTED_V1BETA3[doc["kind"]], where) == []
                if doc["kind"] != "ClusterConfiguration":
                    args = doc["nodeRegistration"]["kubeletExtraArgs"]
                    assert args["cloud-provider"] == "external"
    master = next(g for g in groups if g.name == "master-eu-west-1a")
    docs = {d["kind"]: d for d in yaml.safe_load_all(kubeadm_configs(cluster, master)["init.yaml"])}
    config = docs["ClusterConfiguration"]
    assert config["controllerManager"]["extraArgs"] == {
        "allocate-node-cidrs": "true",
        "configure-cloud-routes": "false",
    }
    assert config["kubernetesVersion"] == f"v{version}"


def test_the_checker_catches_an_undocumented_field() -> None:
    doc = {"kind": "JoinConfiguration", "discovery": {"bootstrapToken": {"caCertHash": "x"}}}
    assert undocumented(doc, DOCUMENTED["JoinConfiguration"], "join") == [
        "join.discovery.bootstrapToken.caCertHash"
    ]


def test_cluster_configuration_follows_the_spec() -> None:
    cluster, groups = completed()
    master = next(g for g in groups if g.name == "master-eu-west-1a")
    docs = {d["kind"]: d for d in yaml.safe_load_all(kubeadm_configs(cluster, master)["init.yaml"])}
    config = docs["ClusterConfiguration"]
    assert config["kubernetesVersion"] == f"v{cluster.spec.kubernetes_version}"
    assert config["networking"]["podSubnet"] == cluster.spec.pod_cidr
    assert config["networking"]["serviceSubnet"] == cluster.spec.service_cluster_ip_range
    assert config["controlPlaneEndpoint"] == "${API_ENDPOINT}:443"  # NLB 443 -> masters 6443
    assert config["etcd"]["local"]["dataDir"].startswith("/var/lib/etcd/")
    token = docs["InitConfiguration"]["bootstrapTokens"][0]
    assert token["ttl"] == "0s"  # instances the ASG launches later still join
    node = next(g for g in groups if g.name == "nodes")
    join = yaml.safe_load(kubeadm_configs(cluster, node)["join.yaml"])
    assert "controlPlane" not in join
    assert join["discovery"]["bootstrapToken"]["caCertHashes"] == ["${CA_CERT_HASH}"]
    master_join = yaml.safe_load(kubeadm_configs(cluster, master)["join.yaml"])
    assert master_join["controlPlane"]["localAPIEndpoint"]["bindPort"] == 6443


def test_an_instance_groups_taints_reach_its_nodes_registration() -> None:
    """Node groups get exactly their taints; masters keep the control-plane taint too.
    Every document still uses only documented fields."""
    cluster, groups = completed()
    for group in groups:
        group.spec.taints = ["dedicated=chat:NoSchedule", "spot:PreferNoSchedule"]
    wanted = [
        {"key": "dedicated", "value": "chat", "effect": "NoSchedule"},
        {"key": "spot", "effect": "PreferNoSchedule"},
    ]
    control_plane = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    for group in groups:
        for name, text in kubeadm_configs(cluster, group).items():
            for doc in yaml.safe_load_all(text):
                if doc["kind"] == "ClusterConfiguration":
                    continue
                taints = doc["nodeRegistration"]["taints"]
                master = group.spec.role.value == "Master"
                assert taints == ([control_plane, *wanted] if master else wanted), name
                assert undocumented(doc, DOCUMENTED[doc["kind"]], f"{group.name}/{name}") == []
