"""The add-ons every escala cluster runs in kube-system, in the order they can be
created: metrics-server (the HPA's CPU), cluster-autoscaler (nodes for pending pods),
the EBS CSI driver and the StorageClasses it serves (volumes for claims)."""

from collections.abc import Mapping

from escala.kube.cluster_autoscaler import cluster_autoscaler
from escala.kube.ebs_csi_driver import ebs_csi_driver
from escala.kube.metrics_server import metrics_server
from escala.kube.objects import Obj
from escala.kube.storage_classes import storage_classes


def storage_addons(cluster_name: str, region: str, volume_tags: Mapping[str, str]) -> list[Obj]:
    """The EBS CSI driver and its StorageClasses: what a claim needs to get a volume
    (born with `volume_tags`)."""
    return [*ebs_csi_driver(cluster_name, region, volume_tags), *storage_classes()]


def cluster_addons(
    cluster_name: str, kubernetes_version: str, region: str, volume_tags: Mapping[str, str]
) -> list[Obj]:
    return [
        *metrics_server(),
        *cluster_autoscaler(cluster_name, kubernetes_version, region),
        *storage_addons(cluster_name, region, volume_tags),
    ]
