"""The masters' certificate renewal, as the user-data installs it: the real script, with
real certificates on disk (checked by openssl) and kubeadm and the kubelet's wait played
by shell functions."""

import datetime as dt
import subprocess
from pathlib import Path

import yaml

from escala.bootstrap import pki
from escala.bootstrap.cloudinit import RENEW_SCRIPT, RENEW_TIMER, render_user_data
from escala.bootstrap.master_files import renew_script
from tests.bootstrap.boot_script import user_data_files
from tests.reconcile.specs import completed

MANIFESTS = ("etcd.yaml", "kube-apiserver.yaml")


def _user_data(group_name: str) -> str:
    cluster, groups = completed()
    return render_user_data(cluster, next(g for g in groups if g.name == group_name))


def _pki(tmp_path: Path, leaf_days: dict[str, int], ca_days: int = 3650) -> Path:
    """A kubeadm-like pki dir: CAs, and leaves living `leaf_days` from now."""
    pki_dir = tmp_path / "pki"
    (pki_dir / "etcd").mkdir(parents=True)
    ca = pki.new_ca("kubernetes", dt.timedelta(days=ca_days))
    for name in ("ca.crt", "front-proxy-ca.crt", "etcd/ca.crt"):
        (pki_dir / name).write_bytes(pki.cert_pem(ca.cert))
    for name, days in leaf_days.items():
        leaf = pki.issue_client_cert(ca, name, (), dt.timedelta(days=days))
        (pki_dir / name).write_bytes(pki.cert_pem(leaf.cert))
    return pki_dir


def _renew(tmp_path: Path, pki_dir: Path) -> subprocess.CompletedProcess[str]:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for name in MANIFESTS:
        (manifests / name).write_text(f"kind: Pod # {name}\n")
    (tmp_path / "renew.sh").write_bytes(renew_script())  # a master file (state store)
    calls = tmp_path / "calls"
    script = f"""
        source {tmp_path}/renew.sh
        kubeadm() {{ echo "kubeadm $*" >> {calls}; }}
        sleep() {{ echo "kubelet sees: $(ls {manifests} | tr '\\n' ' ')" >> {calls}; }}
        renew_if_expiring
    """
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={
            "ESCALA_PKI": str(pki_dir),
            "ESCALA_MANIFESTS": str(manifests),
            "PATH": "/usr/bin:/bin",
        },
    )


def test_a_month_before_a_leaf_expires_everything_is_renewed_and_restarted_one_by_one(
    tmp_path: Path,
) -> None:
    pki_dir = _pki(tmp_path, {"apiserver.crt": 20, "etcd/server.crt": 300})
    out = _renew(tmp_path, pki_dir)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "calls").read_text().splitlines() == [
        "kubeadm certs renew all",
        "kubelet sees: kube-apiserver.yaml ",  # etcd's pod stops...
        "kubelet sees: etcd.yaml kube-apiserver.yaml ",  # ...and starts on its new certificate
        "kubelet sees: etcd.yaml ",
        "kubelet sees: etcd.yaml kube-apiserver.yaml ",
    ]
    assert f"renewing: {pki_dir}/apiserver.crt expire within 30 days" in out.stderr


def test_nothing_is_touched_while_every_leaf_has_more_than_a_month(tmp_path: Path) -> None:
    """A CA near its end is not kubeadm's to renew: it does not trigger a renewal."""
    pki_dir = _pki(tmp_path, {"apiserver.crt": 300, "etcd/server.crt": 45}, ca_days=10)
    out = _renew(tmp_path, pki_dir)
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "calls").exists()
    assert "no certificate expires within 30 days" in out.stderr


def test_masters_run_the_renewal_daily_and_nodes_do_not() -> None:
    master = yaml.safe_load(_user_data("master-eu-west-1a"))
    files = user_data_files(_user_data("master-eu-west-1a"))
    timer = files[f"/etc/systemd/system/{RENEW_TIMER}"]
    assert "OnCalendar=daily" in timer and "RandomizedDelaySec=" in timer
    service = files["/etc/systemd/system/escala-renew-certificates.service"]
    assert f"ExecStart={RENEW_SCRIPT}" in service
    assert ["systemctl", "enable", "--now", RENEW_TIMER] in master["runcmd"]
    node = yaml.safe_load(_user_data("nodes"))
    assert RENEW_SCRIPT not in user_data_files(_user_data("nodes"))
    assert not any(RENEW_TIMER in step for step in node["runcmd"])
