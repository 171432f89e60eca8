"""The encrypted gp3 EBS volumes etcd keeps its data on, one per master zone per etcd
cluster (main, events). A master finds its own volume by the `escala.io/etcd` and
`escala.io/instancegroup` tags. `discover` also finds the volumes Kubernetes provisioned
for PersistentVolumeClaims, which carry the cluster's ownership tag.
"""

import dataclasses
from typing import Any

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import tag_filters, tag_specifications
from escala.errors import CannotChangeField
from escala.reconcile.task import FieldChange, Fields


@dataclasses.dataclass(eq=False, kw_only=True)
class EbsVolume(Ec2Task):
    kind = "EBSVolume"
    ec2_describe = "describe_volumes"
    ec2_id_key = "VolumeId"
    iam_actions = (
        "ec2:DescribeVolumes",
        "ec2:CreateVolume",
        "ec2:ModifyVolume",
        "ec2:DeleteVolume",
        "ec2:CreateTags",
    )
    immutable = frozenset({"zone", "encrypted"})

    zone: str
    size: int
    volume_type: str = "gp3"
    # gp3's provisioned performance; None: the type's baseline (3000 IOPS, 125 MiB/s).
    iops: int | None = None
    throughput: int | None = None

    def _performance(self) -> Fields:
        wanted = {"iops": self.iops, "throughput": self.throughput}
        return {k: v for k, v in wanted.items() if v is not None}

    def desired(self) -> Fields:
        return {
            "zone": self.zone,
            "size": self.size,
            "type": self.volume_type,
            "encrypted": True,
            **self._performance(),
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        volumes = cloud.client("ec2").describe_volumes(Filters=tag_filters(self.tags))["Volumes"]
        if not volumes:
            return None
        volume = volumes[0]
        self.id = volume["VolumeId"]
        return {
            "zone": volume["AvailabilityZone"],
            "size": volume["Size"],
            "type": volume["VolumeType"],
            "encrypted": bool(volume.get("Encrypted")),
            "iops": volume.get("Iops"),
            "throughput": volume.get("Throughput"),
        }

    def check_changes(self, changes: list[FieldChange]) -> None:
        super().check_changes(changes)
        for change in changes:
            if change.field == "size" and change.old is not None and change.new < change.old:
                raise CannotChangeField(
                    f"{self.key}: EBS volumes only grow; size cannot go from {change.old} "
                    f"to {change.new} GiB"
                )

    def create(self, cloud: ClientFactory) -> None:
        volume = cloud.client("ec2").create_volume(
            AvailabilityZone=self.zone,
            Size=self.size,
            VolumeType=self.volume_type,
            Encrypted=True,
            TagSpecifications=tag_specifications("volume", self.tags),
            **self._api_performance(),
        )
        self.id = volume["VolumeId"]

    def _api_performance(self) -> Fields:
        names = {"iops": "Iops", "throughput": "Throughput"}
        return {names[k]: v for k, v in self._performance().items()}

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        cloud.client("ec2").modify_volume(
            VolumeId=self.id, Size=self.size, VolumeType=self.volume_type, **self._api_performance()
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ec2").delete_volume(VolumeId=resource_id)

    @staticmethod
    def ec2_blocked_by(item: dict[str, Any]) -> list[str]:
        return [a["InstanceId"] for a in item.get("Attachments", [])]
