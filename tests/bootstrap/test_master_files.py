"""What does not fit in a master's 16 KB of user-data (the EBS CSI driver's manifest, the
etcd backup script) is published by `update cluster --yes` and fetched by the real boot
script, through the master's role, to where the add-on loop and the timer expect it."""

import subprocess
from pathlib import Path

import yaml

from escala.bootstrap.cloudinit import BOOT_SCRIPT, render_user_data
from escala.bootstrap.master_files import CSI_MANIFEST, ETCD_SCRIPT, publish_master_files
from escala.cloud.aws.tags import csi_volume_tags
from escala.kube.addons import storage_addons
from escala.model.cluster.iam_roles import master_policy
from escala.ops.update import storage_manifest
from escala.state import open_store
from tests.bootstrap.boot_script import user_data_files
from tests.bootstrap.test_cloudinit import _granted
from tests.reconcile.specs import completed


def test_a_master_fetches_the_driver_and_the_etcd_script_its_role_may_read(tmp_path: Path) -> None:
    cluster, groups = completed()  # its state store: s3://escala-state
    state = tmp_path / "escala-state"
    publish_master_files(open_store(f"file://{state}"), cluster.name, storage_manifest(cluster))
    master = next(g for g in groups if g.name == "master-eu-west-1a")
    files = user_data_files(render_user_data(cluster, master))
    root = tmp_path / "root"
    env = "".join(
        line.replace(":/", f":{root}/") if line.startswith("MASTER_FILES=") else line
        for line in files["/etc/escala/env"].splitlines(keepends=True)
    )
    (tmp_path / "env").write_text(env)
    (tmp_path / "boot.sh").write_text(files[BOOT_SCRIPT])
    script = f"""
        source {tmp_path}/boot.sh
        aws() {{  # `aws s3 cp --only-show-errors s3://KEY DEST` from the state directory
          echo "$4" >> {tmp_path}/calls; cp "{tmp_path}/${{4#s3://}}" "$5"
        }}
        fetch_master_files
    """
    out = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={"ESCALA_ENV": str(tmp_path / "env"), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    manifest = list(yaml.safe_load_all((root / CSI_MANIFEST.lstrip("/")).read_text()))
    assert manifest == storage_addons(
        cluster.name, cluster.spec.region, csi_volume_tags(cluster.name)
    )
    etcd_script = root / ETCD_SCRIPT.lstrip("/")
    assert etcd_script.read_text().startswith("#!/bin/bash\n# escala-etcd")
    assert etcd_script.stat().st_mode & 0o777 == 0o755
    policy = master_policy(cluster)
    for source in (tmp_path / "calls").read_text().split():
        assert _granted(policy, "s3:GetObject", "arn:aws:s3:::" + source.removeprefix("s3://"))


def test_nodes_fetch_nothing_of_the_masters() -> None:
    cluster, groups = completed()
    nodes = next(g for g in groups if g.name == "nodes")
    env = user_data_files(render_user_data(cluster, nodes))["/etc/escala/env"]
    assert "MASTER_FILES=\n" in env


def test_masters_run_the_etcd_backup_hourly_once_booted_and_nodes_do_not() -> None:
    cluster, groups = completed()
    for group in groups:
        config = yaml.safe_load(render_user_data(cluster, group))
        files = user_data_files(render_user_data(cluster, group))
        service = files.get("/etc/systemd/system/escala-etcd-backup.service")
        timer = files.get("/etc/systemd/system/escala-etcd-backup.timer")
        enable = ["systemctl", "enable", "--now", "escala-etcd-backup.timer"]
        if group.spec.role.value != "Master":
            assert service is None and timer is None and enable not in config["runcmd"]
            continue
        assert f"ExecStart={ETCD_SCRIPT} backup" in service
        assert "OnCalendar=hourly" in timer
        runcmd = config["runcmd"]
        assert runcmd.index(enable) > runcmd.index([BOOT_SCRIPT])  # once etcd exists
        assert "etcd-client" in config["packages"]  # the etcdctl the script runs
