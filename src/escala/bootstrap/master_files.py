"""What a master fetches from the state store at boot beside its user-data, which EC2
caps at 16 KB: the EBS CSI driver's manifest (applied with the other add-ons by the
master that founds the cluster), the etcd backup script its systemd timer runs and the
certificate-renewal script its other timer runs.

`update cluster --yes` publishes them under `<cluster>/master/` before any instance
launches; the boot script (`fetch_master_files`) copies each to its path, as listed
in MASTER_FILES of /etc/escala/env. Masters may read all of `<cluster>/`.
"""

from dataclasses import dataclass
from importlib.resources import files

from escala.state import StateStore

PREFIX = "master"
ETCD_SCRIPT = "/usr/local/sbin/escala-etcd"  # etcd backups and restore
CSI_MANIFEST = "/etc/escala/addons/aws-ebs-csi-driver.yaml"
RENEW_SCRIPT = "/usr/local/sbin/escala-renew-certificates"  # kubeadm certs renew


@dataclass(frozen=True)
class MasterFile:
    key: str  # under <cluster>/master/
    path: str  # on the master
    mode: str


CSI_FILE = MasterFile("aws-ebs-csi-driver.yaml", CSI_MANIFEST, "0644")
ETCD_FILE = MasterFile("escala-etcd", ETCD_SCRIPT, "0755")
RENEW_FILE = MasterFile("escala-renew-certificates", RENEW_SCRIPT, "0755")
MASTER_FILES = (CSI_FILE, ETCD_FILE, RENEW_FILE)


def _script(name: str) -> bytes:
    return files("escala.bootstrap").joinpath("files", name).read_bytes()


def etcd_script() -> bytes:
    return _script("escala-etcd.sh")


def renew_script() -> bytes:
    return _script("renew-certificates.sh")


def env_value() -> str:
    """MASTER_FILES for /etc/escala/env: `key:path:mode` items, comma separated."""
    return ",".join(f"{PREFIX}/{f.key}:{f.path}:{f.mode}" for f in MASTER_FILES)


def publish_master_files(store: StateStore, cluster_name: str, csi_manifest: bytes) -> None:
    """Write the master files of the cluster; the caller renders the driver's manifest
    (`escala.ops.update.storage_manifest`)."""
    contents = {CSI_FILE: csi_manifest, ETCD_FILE: etcd_script(), RENEW_FILE: renew_script()}
    for f, content in contents.items():
        store.objects.write(f"{cluster_name}/{PREFIX}/{f.key}", content)
