"""The cluster's StorageClasses: what a PersistentVolumeClaim gets when it names none.

`gp3` (the default): encrypted gp3 volumes, created only once a pod using the claim is
scheduled (`WaitForFirstConsumer`, so the volume lands in that pod's zone), growable in
place, deleted with their claim. `gp3-retain`: the same volumes, kept when the claim
goes, and tagged so `delete cluster` keeps them too unless told otherwise
(`escala.ops.cluster_volumes`). Both made by the EBS CSI driver
(`escala.kube.ebs_csi_driver`).
"""

from escala.kube.ebs_csi_driver import DRIVER
from escala.kube.objects import Obj, labels, metadata

DEFAULT = "gp3"
RETAINED = "gp3-retain"
# The tag the retained class puts on its volumes (through the driver's
# `tagSpecification_N` parameter); its value is the PV reclaim policy.
RECLAIM_TAG = "escala.io/reclaim-policy"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def storage_class(name: str, reclaim: str, default: bool) -> Obj:
    meta = metadata(name, None, labels(name, "aws-ebs-csi-driver"))
    meta["annotations"] = {DEFAULT_ANNOTATION: str(default).lower()}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": meta,
        "provisioner": DRIVER,
        "parameters": {
            "type": "gp3",
            "encrypted": "true",
            "csi.storage.k8s.io/fstype": "ext4",
            "tagSpecification_1": f"{RECLAIM_TAG}={reclaim}",
        },
        "reclaimPolicy": reclaim,
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def storage_classes() -> list[Obj]:
    return [storage_class(DEFAULT, "Delete", True), storage_class(RETAINED, "Retain", False)]
