"""kubeadm's HA upgrade procedure, carried by replacements: the real boot script's steps.

The script is sourced as the user-data installs it (tests/bootstrap/boot_script.py), with
apt, kubeadm, systemctl and the API server played by shell functions that record each call
and keep the cluster's stored ClusterConfiguration version in a file, as kubeadm-config
would. What is asserted is the order kubeadm documents: the first control-plane node
`kubeadm upgrade apply`, the others follow the upgraded configuration (`kubeadm upgrade
node`, or a fresh join at the new release), kubelets after their control plane, and one
minor at a time.
"""

import json
from pathlib import Path

import pytest
import yaml

from escala.bootstrap import kubeadm
from tests.bootstrap.boot_script import run_boot
from tests.reconcile.specs import completed

MASTER = "master-eu-west-1b"
NEW = "1.31.13"
OLD = "1.30.14"


def _cluster_plays(tmp_path: Path, stored: str, moved_by_another: str = "") -> str:
    """Shell functions playing the machine and the cluster; the calls land in calls."""
    (tmp_path / "stored").write_text(stored)
    calls, state = tmp_path / "calls", tmp_path / "stored"
    return f"""
        install_kubernetes() {{ echo "install $*" >> {calls}; }}
        install_kubernetes_packages() {{ echo "packages $*" >> {calls}; }}
        remove_stale_etcd_members() {{ echo "remove-stale-etcd-members $*" >> {calls}; }}
        set_aside_etcd_data() {{ echo "set-aside-etcd-data" >> {calls}; }}
        systemctl() {{ echo "systemctl $*" >> {calls}; }}
        stored_cluster_version() {{ cat {state}; }}
        kubeadm_join() {{
          echo "kubeadm join" >> {calls}
          [ -z "{moved_by_another}" ] || echo "{moved_by_another}" > {state}
        }}
        kubeadm() {{
          echo "kubeadm $*" >> {calls}
          if [ "$1 $2" = "upgrade apply" ]; then echo "${{3#v}}" > {state}; fi
        }}
    """


def _calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls").read_text().splitlines()


def test_the_first_master_on_the_new_release_joins_as_the_cluster_is_then_upgrades_it(
    tmp_path: Path,
) -> None:
    out = run_boot(tmp_path, MASTER, _cluster_plays(tmp_path, OLD) + "join_control_plane", NEW)
    assert out.returncode == 0, out.stderr
    assert _calls(tmp_path) == [
        f"install {OLD}",  # kubeadm refuses a kubelet newer than the control plane
        f"remove-stale-etcd-members {OLD}",
        "set-aside-etcd-data",
        "kubeadm join",
        f"packages {NEW} kubeadm",  # kubeadm first,
        f"kubeadm upgrade apply v{NEW} --yes",  # the stored configuration and this node,
        f"packages {NEW} kubelet kubectl",  # then the kubelet
        "systemctl daemon-reload",
        "systemctl restart kubelet",
    ]
    assert (tmp_path / "stored").read_text().strip() == NEW
    assert f"upgrading this control-plane node to {NEW}" in out.stderr


def test_the_masters_after_it_join_at_the_new_release_directly(tmp_path: Path) -> None:
    out = run_boot(tmp_path, MASTER, _cluster_plays(tmp_path, NEW) + "join_control_plane", NEW)
    assert out.returncode == 0, out.stderr
    assert _calls(tmp_path) == [
        f"install {NEW}",
        f"remove-stale-etcd-members {NEW}",
        "set-aside-etcd-data",
        "kubeadm join",
    ]


def test_a_master_whose_configuration_another_master_upgraded_runs_upgrade_node(
    tmp_path: Path,
) -> None:
    """The configuration moved to the new release while this master joined: it follows
    with `kubeadm upgrade node` and never applies a second time."""
    body = _cluster_plays(tmp_path, OLD, moved_by_another=NEW) + "join_control_plane"
    out = run_boot(tmp_path, MASTER, body, NEW)
    assert out.returncode == 0, out.stderr
    calls = _calls(tmp_path)
    assert calls[calls.index("kubeadm join") + 1 :] == [
        f"packages {NEW} kubeadm",
        "kubeadm upgrade node",
        f"packages {NEW} kubelet kubectl",
        "systemctl daemon-reload",
        "systemctl restart kubelet",
    ]


def test_a_patch_release_joins_at_the_new_patch_and_applies_it(tmp_path: Path) -> None:
    body = _cluster_plays(tmp_path, "1.31.2") + "join_control_plane"
    out = run_boot(tmp_path, MASTER, body, NEW)
    assert out.returncode == 0, out.stderr
    calls = _calls(tmp_path)
    assert calls[0] == f"install {NEW}"
    assert f"kubeadm upgrade apply v{NEW} --yes" in calls


def test_a_master_two_minors_ahead_stops_before_installing_anything(tmp_path: Path) -> None:
    out = run_boot(
        tmp_path, MASTER, _cluster_plays(tmp_path, "1.29.15") + "join_control_plane", NEW
    )
    assert out.returncode != 0
    assert not (tmp_path / "calls").exists()
    assert "one minor at a time" in out.stderr


@pytest.mark.parametrize(
    ("stored", "installed"),
    [
        (OLD, OLD),  # the control plane is not upgraded yet: a kubelet may not be newer
        (NEW, NEW),
        ("1.31.2", NEW),  # a newer patch of the same minor is within the skew
        ("", NEW),  # nothing readable: the release of the spec
    ],
)
def test_a_node_never_joins_with_a_kubelet_newer_than_its_control_plane(
    tmp_path: Path, stored: str, installed: str
) -> None:
    out = run_boot(tmp_path, "nodes", _cluster_plays(tmp_path, "") + f"join_node '{stored}'", NEW)
    assert out.returncode == 0, out.stderr
    assert _calls(tmp_path) == [f"install {installed}", "kubeadm join"]
    assert ("roll the masters first" in out.stderr) == (installed != NEW)


def test_the_stored_version_is_read_from_kubeadm_config(tmp_path: Path) -> None:
    """The ConfigMap as the API server returns it, holding the ClusterConfiguration escala
    renders; an unreadable one means: join at the spec's release."""
    cluster, _ = completed()
    cluster.spec.kubernetes_version = OLD
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": yaml.safe_dump(kubeadm.cluster_configuration(cluster))},
    }
    answer = tmp_path / "configmap.json"
    answer.write_text(json.dumps(configmap))
    body = f"""
        api_get() {{ echo "GET $1" >> {tmp_path}/calls; cat {answer}; }}
        stored_cluster_version; echo ---
        api_get() {{ return 22; }}
        stored_cluster_version; echo ---
    """
    out = run_boot(tmp_path, MASTER, body, NEW)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [OLD, "---", "---"]
    assert _calls(tmp_path) == ["GET /api/v1/namespaces/kube-system/configmaps/kubeadm-config"]
    assert f"cannot read kubeadm-config; joining as if the cluster ran {NEW}" in out.stderr
