"""`escala access grant|list`: a kubeconfig for the person, the binding applied to the
API (the Kubernetes API fake), and a record with no key in it."""

import base64
import json
import subprocess
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from escala.bootstrap.secrets import cert_path, ensure_cluster_secrets
from tests.bootstrap.conftest import CLUSTER
from tests.kube.api_nlb import make_api_nlb


def escala(*args: str, store) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "escala", *args, "--name", CLUSTER, "--state", store.url],
        capture_output=True,
        text=True,
    )


@pytest.fixture
def ready(aws, store, cluster) -> str:
    ensure_cluster_secrets(store, cluster)
    return make_api_nlb()


def test_namespace_grant_applies_a_rolebinding_and_writes_a_private_kubeconfig(
    ready, store, fake_api, kubeconfig, tmp_path
) -> None:
    out = tmp_path / "ana.kubeconfig"
    run = escala(
        "access", "grant", "ana", "--group", "chat-devs", "--role", "edit",
        "--namespace", "chat", "--ttl", "8h", "--out", str(out),
        "--kubeconfig", str(kubeconfig), store=store,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    binding = fake_api.cluster.generic[("rolebindings", "chat", "escala:edit:chat-devs")]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "edit",
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "chat-devs"}
    ]
    assert out.stat().st_mode & 0o777 == 0o600
    config = yaml.safe_load(out.read_text())
    assert config["clusters"][0]["cluster"]["server"] == f"https://{ready}"
    assert config["contexts"][0]["context"]["namespace"] == "chat"
    user = config["users"][0]["user"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
    cert.verify_directly_issued_by(
        x509.load_pem_x509_certificate(store.read_secret(CLUSTER, cert_path("ca")))
    )
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "ana"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "chat-devs"

    listed = escala("access", "list", "-o", "json", store=store)
    assert listed.returncode == 0, listed.stderr
    [grant] = json.loads(listed.stdout)
    assert grant["user"] == "ana" and grant["role"] == "edit" and grant["namespace"] == "chat"
    assert grant["binding"] == "RoleBinding/escala:edit:chat-devs"
    key = base64.b64decode(user["client-key-data"])
    record = store.objects.read(f"{CLUSTER}/access/ana")
    assert b"PRIVATE KEY" not in record and key not in record


def test_cluster_wide_grant_printed_as_yaml_is_not_applied(ready, store, fake_api, tmp_path):
    run = escala(
        "access", "grant", "luis", "--group", "auditors", "--role", "view",
        "--out", str(tmp_path / "luis"), "-o", "yaml", store=store,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    binding = yaml.safe_load(run.stdout)
    assert binding["kind"] == "ClusterRoleBinding"
    assert binding["roleRef"]["name"] == "view"
    assert "namespace" not in binding["metadata"]
    assert fake_api.cluster.generic == {}
    assert "PRIVATE" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--group", "system:masters", "--role", "view"], "--group"),
        (["--group", "devs", "--role", "root"], "--role"),
        (["--group", "devs", "--role", "view", "--namespace", "Bad_NS"], "--namespace"),
        (["--group", "devs", "--role", "view", "--ttl", "forever"], "--ttl"),
    ],
)
def test_bad_input_exits_2_naming_the_flag_and_creates_nothing(store, tmp_path, args, flag):
    out = tmp_path / "eve"
    run = escala("access", "grant", "eve", *args, "--out", str(out), store=store)
    assert run.returncode == 2
    assert flag in run.stderr
    assert not out.exists()
    assert store.objects.list(f"{CLUSTER}/access/") == []


def test_unreachable_api_leaves_no_kubeconfig_and_no_record(ready, store, tmp_path):
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": CLUSTER, "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": CLUSTER, "user": {"token": "t"}}],
                "contexts": [{"name": CLUSTER, "context": {"cluster": CLUSTER, "user": CLUSTER}}],
            }
        )
    )
    out = tmp_path / "ana"
    run = escala(
        "access", "grant", "ana", "--group", "devs", "--role", "view",
        "--out", str(out), "--kubeconfig", str(dead), store=store,
    )  # fmt: skip
    assert run.returncode != 0
    assert "cannot reach the Kubernetes API" in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()
    assert store.objects.list(f"{CLUSTER}/access/") == []
