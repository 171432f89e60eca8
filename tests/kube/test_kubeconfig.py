"""`escala export kubeconfig` against moto: the NLB's DNS name, the CA, an admin cert."""

import base64
import datetime as dt
import subprocess
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from escala.bootstrap.secrets import cert_path, ensure_cluster_secrets
from escala.cloud.aws.load_balancer import api_load_balancer_name
from escala.cloud.aws.session import ClientFactory
from escala.errors import NotFound
from escala.kube.kubeconfig import export_kubeconfig
from tests.bootstrap.conftest import CLUSTER
from tests.kube.api_nlb import make_api_nlb


def test_nlb_name_follows_the_contract() -> None:
    assert api_load_balancer_name("proyecto.k8s.local") == "api-proyecto-k8s-local"
    assert len(api_load_balancer_name("a-very-long-cluster-name.example.com")) <= 32


def test_export_merges_a_context_with_an_admin_cert(aws, store, cluster, tmp_path) -> None:
    ensure_cluster_secrets(store, cluster)
    dns = make_api_nlb()
    path = tmp_path / "kube" / "config"
    path.parent.mkdir()
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "other", "cluster": {"server": "https://other"}}],
                "contexts": [{"name": "other", "context": {"cluster": "other", "user": "o"}}],
                "users": [{"name": "o", "user": {}}],
                "current-context": "other",
            }
        )
    )
    export_kubeconfig(store, ClientFactory(), CLUSTER, path, dt.timedelta(hours=18))
    config = yaml.safe_load(path.read_text())
    assert path.stat().st_mode & 0o777 == 0o600
    assert config["current-context"] == CLUSTER
    assert [c["name"] for c in config["clusters"]] == ["other", CLUSTER]
    entry = config["clusters"][1]["cluster"]
    assert entry["server"] == f"https://{dns}"
    ca_pem = base64.b64decode(entry["certificate-authority-data"])
    assert ca_pem == store.read_secret(CLUSTER, cert_path("ca"))
    user = next(u for u in config["users"] if u["name"] == f"{CLUSTER}-admin")["user"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kubernetes-admin"
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["kubeadm:cluster-admins"]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(hours=18, minutes=5)

    # exporting again replaces the entries instead of duplicating them
    export_kubeconfig(store, ClientFactory(), CLUSTER, path, None)
    config = yaml.safe_load(path.read_text())
    assert [c["name"] for c in config["contexts"]] == ["other", CLUSTER]


def test_missing_load_balancer_is_a_clear_error(aws, store, cluster, tmp_path) -> None:
    ensure_cluster_secrets(store, cluster)
    with pytest.raises(NotFound, match=r"api-proyecto-k8s-local .*escala update cluster"):
        export_kubeconfig(store, ClientFactory(), CLUSTER, tmp_path / "c", None)
    assert not (tmp_path / "c").exists()


def test_cli_admin_flag_and_bad_ttl(aws, store, cluster, tmp_path) -> None:
    ensure_cluster_secrets(store, cluster)
    make_api_nlb()
    path = tmp_path / "config"
    base = [sys.executable, "-m", "escala", "export", "kubeconfig", "--name", CLUSTER]
    base += ["--state", store.url, "--kubeconfig", str(path)]
    for ttl in ("soon", "²h"):  # "²" is a digit to str.isdigit, not to int()
        bad = subprocess.run([*base, "--admin", "--ttl", ttl], capture_output=True, text=True)
        assert bad.returncode == 2 and f"--ttl {ttl!r}" in bad.stderr, bad.stderr
        assert not path.exists()
    ok = subprocess.run([*base, "--admin"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "client-key-data" in path.read_text()
    assert "PRIVATE" not in ok.stdout + ok.stderr
