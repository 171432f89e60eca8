"""Run functions of the real boot script, as the user-data installs it, in a shell.

`run_boot` sources the boot script of one instance group, then runs `body`, which may
redefine the functions that reach AWS, IMDS, apt, etcd or kubeadm to play a cluster: the
decisions and the order of the steps are the script's own.
"""

import base64
import gzip
import subprocess
from pathlib import Path

import yaml

from escala.bootstrap.cloudinit import BOOT_SCRIPT, render_user_data
from tests.reconcile.specs import completed


def user_data_files(user_data: str) -> dict[str, str]:
    """path -> content of write_files, gz+b64 ones unpacked."""
    out = {}
    for f in yaml.safe_load(user_data)["write_files"]:
        content = f["content"]
        if f.get("encoding") == "gz+b64":
            content = gzip.decompress(base64.b64decode(content)).decode()
        out[f["path"]] = content
    return out


def run_boot(
    tmp_path: Path, group_name: str, body: str, kubernetes_version: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Source `group_name`'s boot script (the cluster at `kubernetes_version`), run `body`."""
    cluster, groups = completed()
    if kubernetes_version:
        cluster.spec.kubernetes_version = kubernetes_version
    files = user_data_files(
        render_user_data(cluster, next(g for g in groups if g.name == group_name))
    )
    env = files["/etc/escala/env"].replace("ETCD_MOUNT=/var/lib/etcd", f"ETCD_MOUNT={tmp_path}")
    env = env.replace("ETCD_DATA_DIR=/var/lib/etcd/main", f"ETCD_DATA_DIR={tmp_path}/main")
    (tmp_path / "env").write_text(env)
    (tmp_path / "boot.sh").write_text(files[BOOT_SCRIPT])
    return subprocess.run(
        ["bash", "-c", f"source {tmp_path}/boot.sh\n{body}"],
        capture_output=True,
        text=True,
        env={"ESCALA_ENV": str(tmp_path / "env"), "PATH": "/usr/bin:/bin"},
    )
