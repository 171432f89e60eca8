"""`validate cluster` shows when the CAs and the admin kubeconfig expire, and fails on an
expired one, saying how to renew it."""

import base64
import datetime as dt
import json

import pytest
import yaml

from escala.bootstrap import pki
from escala.bootstrap.secrets import cluster_ca, ensure_cluster_secrets
from escala.cli.main import main
from escala.ops.certificates import CertificateExpiry
from tests.ops.conftest import World
from tests.ops.world import CLUSTER


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0)


def _with_admin_certificate(world: World, lifetime: dt.timedelta) -> None:
    """The kubeconfig's user also carries a client certificate from the cluster CA, as
    `escala export kubeconfig --admin` writes it."""
    ensure_cluster_secrets(world.store, world.store.get_cluster(CLUSTER, completed=True))
    client = pki.issue_client_cert(
        cluster_ca(world.store, CLUSTER), "kubernetes-admin", ("kubeadm:cluster-admins",), lifetime
    )
    config = yaml.safe_load(world.kubeconfig.read_text())
    config["users"][0]["user"].update(
        {
            "client-certificate-data": base64.b64encode(pki.cert_pem(client.cert)).decode(),
            "client-key-data": base64.b64encode(pki.key_pem(client.key)).decode(),
        }
    )
    world.kubeconfig.write_text(yaml.safe_dump(config))


def test_validate_lists_the_cas_and_the_admin_certificate_with_their_expiry(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_admin_certificate(world, dt.timedelta(hours=18))
    assert _run(["validate", "cluster", "--name", CLUSTER, "-o", "json"]) == 0
    certificates = {c["name"]: c for c in json.loads(capsys.readouterr().out)["certificates"]}
    assert set(certificates) == {
        "CA ca",
        "CA etcd-ca",
        "CA front-proxy-ca",
        f"kubeconfig user {CLUSTER}",
    }
    assert certificates["CA ca"]["remaining"] in ("3649d", "3650d")
    assert certificates[f"kubeconfig user {CLUSTER}"]["remaining"] in ("17h", "18h")
    assert {c["status"] for c in certificates.values()} == {"ok"}

    assert _run(["validate", "cluster", "--name", CLUSTER]) == 0
    out = capsys.readouterr().out
    assert "CERTIFICATES" in out and "3649d" in out


def test_an_expired_admin_certificate_fails_validation_and_says_how_to_renew(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_admin_certificate(world, dt.timedelta(minutes=-1))
    assert _run(["validate", "cluster", "--name", CLUSTER]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert f"kubeconfig user {CLUSTER} expired at" in out
    assert f"escala export kubeconfig --name {CLUSTER} --admin" in out
    assert "Validation Failed" in out


def test_a_token_kubeconfig_shows_only_the_cas(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fake's kubeconfig authenticates with a token: there is no client certificate."""
    ensure_cluster_secrets(world.store, world.store.get_cluster(CLUSTER, completed=True))
    assert _run(["validate", "cluster", "--name", CLUSTER, "-o", "json"]) == 0
    names = [c["name"] for c in json.loads(capsys.readouterr().out)["certificates"]]
    assert names == ["CA ca", "CA etcd-ca", "CA front-proxy-ca"]


@pytest.mark.parametrize(
    ("lifetime", "left", "status"),
    [
        (dt.timedelta(days=365), dt.timedelta(days=31), "ok"),
        (dt.timedelta(days=365), dt.timedelta(days=29), "renew soon"),  # under a month of a year
        (dt.timedelta(hours=18), dt.timedelta(hours=1), "renew soon"),
        (dt.timedelta(hours=18), dt.timedelta(0), "expired"),
    ],
)
def test_renew_soon_once_a_twelfth_of_the_lifetime_is_left(
    lifetime: dt.timedelta, left: dt.timedelta, status: str
) -> None:
    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    cert = CertificateExpiry("c", now + left - lifetime, now + left, "renew")
    assert cert.status(now) == status
