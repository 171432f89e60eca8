"""Which of a cluster's EBS volumes `delete cluster` keeps, and why.

Everything the cluster owns goes with it, volumes the EBS CSI driver made for claims of
the default class included (they carry the cluster's ownership tag: escala.kube.
ebs_csi_driver). Two kinds stay, and the command lists them:

- retained: made by the `gp3-retain` class or by `escala create volume`, both tagged
  `escala.io/reclaim-policy=Retain`: data someone chose to keep; they go only when
  told (`--delete-retained-volumes`);
- shared: tagged `kubernetes.io/cluster/<name>=shared`: someone else's, never deleted.
"""

from dataclasses import dataclass

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import ownership_tag
from escala.cloud.aws.volume_inventory import VolumeInfo, cluster_volumes
from escala.kube.storage_classes import RECLAIM_TAG


@dataclass(frozen=True)
class KeptVolume:
    volume: VolumeInfo
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {**self.volume.to_dict(), "reason": self.reason}


def volumes_to_keep(
    cloud: ClientFactory, cluster_name: str, delete_retained: bool = False
) -> list[KeptVolume]:
    kept = []
    for volume in cluster_volumes(cloud, cluster_name):
        if not volume.owned:
            reason = f"shared ({ownership_tag(cluster_name)}=shared): not the cluster's to delete"
        elif volume.tags.get(RECLAIM_TAG) == "Retain" and not delete_retained:
            reason = f"retained ({RECLAIM_TAG}=Retain): --delete-retained-volumes deletes it"
        else:
            continue
        kept.append(KeptVolume(volume, reason))
    return kept
