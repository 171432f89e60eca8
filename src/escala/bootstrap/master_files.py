"""What a master fetches from the state store at boot beside its user-data, which EC2
caps at 16 KB: the EBS CSI driver's manifest (applied with the other add-ons by the
master that founds the cluster) and the etcd backup script its systemd timer runs.

`update cluster --yes` publishes them under `<cluster>/master/` before any instance
launches; the boot script (`fetch_master_files`) copies each to its path, as listed
in MASTER_FILES of /etc/escala/env. Masters may read all of `<cluster>/`.
"""

from dataclasses import dataclass
from importlib.resources import files

import yaml

from escala.api import Cluster
from escala.cloud.aws.tags import csi_volume_tags
from escala.kube.addons import storage_addons
from escala.state import StateStore

PREFIX = "master"
ETCD_SCRIPT = "/usr/local/sbin/escala-etcd"  # etcd backups and restore
CSI_MANIFEST = "/etc/escala/addons/aws-ebs-csi-driver.yaml"


@dataclass(frozen=True)
class MasterFile:
    key: str  # under <cluster>/master/
    path: str  # on the master
    mode: str
    content: bytes


def _storage_manifest(cluster: Cluster) -> bytes:
    objects = storage_addons(cluster.name, cluster.spec.region, csi_volume_tags(cluster.name))
    return yaml.safe_dump_all(objects, sort_keys=False).encode()


def master_files(cluster: Cluster) -> list[MasterFile]:
    script = files("escala.bootstrap").joinpath("files", "escala-etcd.sh").read_bytes()
    return [
        MasterFile("aws-ebs-csi-driver.yaml", CSI_MANIFEST, "0644", _storage_manifest(cluster)),
        MasterFile("escala-etcd", ETCD_SCRIPT, "0755", script),
    ]


def env_value(cluster: Cluster) -> str:
    """MASTER_FILES for /etc/escala/env: `key:path:mode` items, comma separated."""
    return ",".join(f"{PREFIX}/{f.key}:{f.path}:{f.mode}" for f in master_files(cluster))


def publish_master_files(store: StateStore, cluster: Cluster) -> None:
    for f in master_files(cluster):
        store.objects.write(f"{cluster.name}/{PREFIX}/{f.key}", f.content)
