"""The cluster's PKI: made once, chained to its CAs, and never handed to nodes."""

import datetime as dt
import hashlib
import json
import subprocess
import sys

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from escala.bootstrap import pki
from escala.bootstrap.secrets import (
    CAS,
    NODE_CA_CERT,
    NODE_TOKEN,
    cert_path,
    cluster_ca,
    ensure_cluster_secrets,
    key_path,
    list_secrets,
)
from tests.bootstrap.conftest import CLUSTER


def test_secrets_are_created_once_and_kept(store, cluster) -> None:
    first = ensure_cluster_secrets(store, cluster)
    assert first == ["ca", "etcd-ca", "front-proxy-ca", "service-account", "bootstrap-token"]
    ca_before = store.read_secret(CLUSTER, cert_path("ca"))
    assert ensure_cluster_secrets(store, cluster) == []
    assert store.read_secret(CLUSTER, cert_path("ca")) == ca_before


def test_cas_carry_kubeadm_names_and_may_sign(store, cluster) -> None:
    ensure_cluster_secrets(store, cluster)
    for name, common_name in CAS.items():
        cert = x509.load_pem_x509_certificate(store.read_secret(CLUSTER, cert_path(name)))
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == common_name
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        assert lifetime > dt.timedelta(days=3649)


def test_secrets_are_private_files(store, cluster, tmp_path) -> None:
    ensure_cluster_secrets(store, cluster)
    key = tmp_path / "state" / CLUSTER / key_path("ca")
    assert key.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY")
    assert key.stat().st_mode & 0o777 == 0o600


def test_node_material_is_the_ca_cert_and_token_only(store, cluster) -> None:
    ensure_cluster_secrets(store, cluster)
    node_keys = store.objects.list(f"{CLUSTER}/node/")
    assert node_keys == sorted([f"{CLUSTER}/{NODE_CA_CERT}", f"{CLUSTER}/{NODE_TOKEN}"])
    for key in node_keys:
        assert b"PRIVATE KEY" not in store.objects.read(key)
    token = store.read_secret(CLUSTER, NODE_TOKEN).decode()
    token_id, secret = token.split(".")
    assert len(token_id) == 6 and len(secret) == 16 and token.islower()


def test_client_cert_chains_to_the_ca_with_cn_o_and_lifetime(store, cluster, tmp_path) -> None:
    ensure_cluster_secrets(store, cluster)
    ca = cluster_ca(store, CLUSTER)
    issued = pki.issue_client_cert(ca, "alice", ("devs",), dt.timedelta(hours=3))
    cert = issued.cert
    cert.verify_directly_issued_by(ca.cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "devs"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    now = dt.datetime.now(dt.UTC)
    assert (
        dt.timedelta(hours=2, minutes=59) < cert.not_valid_after_utc - now <= dt.timedelta(hours=3)
    )
    # openssl agrees it chains
    (tmp_path / "ca.pem").write_bytes(pki.cert_pem(ca.cert))
    (tmp_path / "alice.pem").write_bytes(pki.cert_pem(cert))
    out = subprocess.run(
        ["openssl", "verify", "-CAfile", tmp_path / "ca.pem", tmp_path / "alice.pem"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


def test_discovery_hash_matches_kubeadms_openssl_pipeline(store, cluster) -> None:
    ensure_cluster_secrets(store, cluster)
    ca_pem = store.read_secret(CLUSTER, cert_path("ca"))
    # kubeadm's documented pipeline (kubeadm join docs)
    pipeline = (
        "openssl x509 -pubkey | openssl rsa -pubin -outform der 2>/dev/null"
        " | openssl dgst -sha256 -hex | sed 's/^.* //'"
    )
    out = subprocess.run(["sh", "-c", pipeline], input=ca_pem, capture_output=True, check=True)
    expected = "sha256:" + out.stdout.decode().strip()
    assert pki.discovery_hash(x509.load_pem_x509_certificate(ca_pem)) == expected


def test_listing_shows_fingerprints_never_secrets(store, cluster) -> None:
    ensure_cluster_secrets(store, cluster)
    listed = list_secrets(store, CLUSTER)
    assert [s.name for s in listed] == [*CAS, "service-account", "bootstrap-token"]
    ca_pem = store.read_secret(CLUSTER, cert_path("ca"))
    der = subprocess.run(
        ["openssl", "x509", "-outform", "der"], input=ca_pem, capture_output=True, check=True
    ).stdout
    assert listed[0].fingerprint == hashlib.sha256(der).hexdigest()
    token = store.read_secret(CLUSTER, NODE_TOKEN).decode()
    assert all(token not in s.fingerprint for s in listed)


def test_get_secrets_cli_lists_fingerprints_and_no_secret(store, cluster) -> None:
    ensure_cluster_secrets(store, cluster)
    base = [sys.executable, "-m", "escala", "get", "secrets", "--name", CLUSTER]
    run = subprocess.run(
        [*base, "--state", store.url, "-o", "json"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    listed = json.loads(run.stdout)
    assert {s["name"] for s in listed} >= {"ca", "etcd-ca", "front-proxy-ca", "service-account"}
    token = store.read_secret(CLUSTER, NODE_TOKEN).decode()
    assert token not in run.stdout and "PRIVATE" not in run.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "escala", "get", "secrets", "--name", "nope", "--state", store.url],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "nope" in missing.stderr
