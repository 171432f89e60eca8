"""The encrypted gp3 EBS volumes etcd keeps its data on, one per master zone per etcd
cluster (main, events). A master finds its own volume by the `escala.io/etcd` and
`escala.io/instancegroup` tags. `discover` also finds the volumes Kubernetes provisioned
for PersistentVolumeClaims, which carry the cluster's ownership tag.
"""

import dataclasses
from typing import Any

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import tag_specifications
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

    def desired(self) -> Fields:
        return {"zone": self.zone, "size": self.size, "type": self.volume_type, "encrypted": True}

    def find(self, cloud: ClientFactory) -> Fields | None:
        volumes = cloud.client("ec2").describe_volumes(
            Filters=[{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(self.tags.items())]
        )["Volumes"]
        if not volumes:
            return None
        volume = volumes[0]
        self.id = volume["VolumeId"]
        return {
            "zone": volume["AvailabilityZone"],
            "size": volume["Size"],
            "type": volume["VolumeType"],
            "encrypted": bool(volume.get("Encrypted")),
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
        )
        self.id = volume["VolumeId"]

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        cloud.client("ec2").modify_volume(
            VolumeId=self.id, Size=self.size, VolumeType=self.volume_type
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ec2").delete_volume(VolumeId=resource_id)

    @staticmethod
    def ec2_blocked_by(item: dict[str, Any]) -> list[str]:
        return [a["InstanceId"] for a in item.get("Attachments", [])]
