"""A static PersistentVolume for an EBS volume made beforehand, and the claim bound to it
(the seed's "define the volume in the cluster" and "claim it").

The PersistentVolume names the EBS CSI driver and the volume's ID, and is pinned to the
volume's zone by node affinity (an EBS volume attaches only to instances in its zone,
so the scheduler must put the claiming pod there). It is pre-bound to its claim
(`claimRef`) and the claim names it (`volumeName`), both with the empty storage class,
so no other claim can take it and no StorageClass provisions a second volume instead.
Pure functions, no I/O.
"""

from dataclasses import dataclass

from escala.kube.ebs_csi_driver import DRIVER, ZONE_KEY
from escala.kube.objects import Obj, labels, metadata


@dataclass(frozen=True)
class StaticVolume:
    """An EBS volume as the cluster will see it."""

    name: str  # of the PersistentVolume (and, by default, of its claim)
    volume_id: str
    zone: str
    size_gib: int
    namespace: str = "default"  # of the claim
    claim: str | None = None  # the claim's name; None: the volume's name
    reclaim_policy: str = "Retain"

    @property
    def claim_name(self) -> str:
        return self.claim or self.name


def persistent_volume(volume: StaticVolume) -> Obj:
    affinity = {"key": ZONE_KEY, "operator": "In", "values": [volume.zone]}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": metadata(volume.name, None, labels(volume.name)),
        "spec": {
            "capacity": {"storage": f"{volume.size_gib}Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": volume.reclaim_policy,
            "storageClassName": "",
            "claimRef": {"namespace": volume.namespace, "name": volume.claim_name},
            "csi": {"driver": DRIVER, "volumeHandle": volume.volume_id, "fsType": "ext4"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [affinity]}]}},
        },
    }


def persistent_volume_claim(volume: StaticVolume) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(volume.claim_name, volume.namespace, labels(volume.name)),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "",
            "volumeName": volume.name,
            "resources": {"requests": {"storage": f"{volume.size_gib}Gi"}},
        },
    }


def static_volume_objects(volume: StaticVolume) -> list[Obj]:
    """The PersistentVolume, then its claim."""
    return [persistent_volume(volume), persistent_volume_claim(volume)]
