"""Every EBS volume tagged for a cluster, owned or `shared`, with what its tags say about
it: for `escala get volumes`, `escala delete volume` and what `delete cluster` keeps.

Volumes come from three places: etcd's (the model), static ones a user made with
`escala create volume`, and dynamic ones the EBS CSI driver made for claims (tagged
`ebs.csi.aws.com/cluster=true` and, with `--extra-create-metadata`, the claim's name).
"""

import dataclasses

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import (
    CLUSTER_TAG,
    ETCD_TAG,
    SHARED,
    as_dict,
    is_owned,
    ownership_tag,
)

VOLUME_TAG = "escala.io/volume"  # the name `escala create volume` gave a static volume
CSI_TAG = "ebs.csi.aws.com/cluster"  # on every volume the EBS CSI driver creates
CLAIM_NAMESPACE_TAG = "kubernetes.io/created-for/pvc/namespace"
CLAIM_NAME_TAG = "kubernetes.io/created-for/pvc/name"


@dataclasses.dataclass(frozen=True)
class VolumeInfo:
    id: str
    name: str
    zone: str
    size: int
    volume_type: str
    iops: int | None
    throughput: int | None
    state: str
    attached_to: tuple[str, ...]
    tags: dict[str, str]
    owned: bool

    @property
    def origin(self) -> str:
        """etcd, static (escala create volume), dynamic (the CSI driver) or other."""
        if ETCD_TAG in self.tags:
            return "etcd"
        if VOLUME_TAG in self.tags:
            return "static"
        if self.tags.get(CSI_TAG) == "true":
            return "dynamic"
        return "other"

    @property
    def claim(self) -> str | None:
        """`namespace/name` of the claim the driver made it for, when it says."""
        if CLAIM_NAME_TAG not in self.tags:
            return None
        return f"{self.tags.get(CLAIM_NAMESPACE_TAG, '')}/{self.tags[CLAIM_NAME_TAG]}"

    def to_dict(self) -> dict[str, object]:
        out = dataclasses.asdict(self)
        out["attached_to"] = list(self.attached_to)
        return {**out, "origin": self.origin, "claim": self.claim}


def cluster_volumes(cloud: ClientFactory, cluster_name: str) -> list[VolumeInfo]:
    """The volumes tagged `kubernetes.io/cluster/<name>` (owned or shared) or
    `KubernetesCluster=<name>`, sorted by name."""
    ec2 = cloud.client("ec2")
    found: dict[str, dict] = {}
    for key, values in (
        (ownership_tag(cluster_name), ["owned", SHARED]),
        (CLUSTER_TAG, [cluster_name]),
    ):
        pages = ec2.get_paginator("describe_volumes").paginate(
            Filters=[{"Name": f"tag:{key}", "Values": values}]
        )
        for page in pages:
            found.update((v["VolumeId"], v) for v in page["Volumes"])
    return sorted((_info(v, cluster_name) for v in found.values()), key=lambda v: v.name)


def _info(volume: dict, cluster_name: str) -> VolumeInfo:
    tags = as_dict(volume.get("Tags"))
    return VolumeInfo(
        id=volume["VolumeId"],
        name=tags.get(VOLUME_TAG) or tags.get("Name") or volume["VolumeId"],
        zone=volume["AvailabilityZone"],
        size=volume["Size"],
        volume_type=volume["VolumeType"],
        iops=volume.get("Iops"),
        throughput=volume.get("Throughput"),
        state=volume["State"],
        attached_to=tuple(a["InstanceId"] for a in volume.get("Attachments", [])),
        tags=tags,
        owned=is_owned(tags, cluster_name),
    )
