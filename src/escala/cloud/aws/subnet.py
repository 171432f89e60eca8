"""One subnet per availability zone; public subnets give instances public IPs."""

import dataclasses
from typing import Any

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import tag_specifications
from escala.cloud.aws.vpc import Vpc
from escala.reconcile.task import FieldChange, Fields


@dataclasses.dataclass(eq=False, kw_only=True)
class Subnet(Ec2Task):
    kind = "Subnet"
    ec2_describe = "describe_subnets"
    ec2_id_key = "SubnetId"
    iam_actions = (
        "ec2:DescribeSubnets",
        "ec2:CreateSubnet",
        "ec2:ModifySubnetAttribute",
        "ec2:DeleteSubnet",
        "ec2:CreateTags",
    )
    immutable = frozenset({"cidr", "zone"})

    vpc: Vpc
    zone: str
    cidr: str
    public: bool = True

    def desired(self) -> Fields:
        return {"cidr": self.cidr, "zone": self.zone, "publicIp": self.public}

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.vpc.id is None:
            return None
        subnets = cloud.client("ec2").describe_subnets(
            Filters=[
                {"Name": "vpc-id", "Values": [self.vpc.id]},
                {"Name": "tag:Name", "Values": [self.tags["Name"]]},
            ]
        )["Subnets"]
        if not subnets:
            return None
        subnet = subnets[0]
        self.id = subnet["SubnetId"]
        return {
            "cidr": subnet["CidrBlock"],
            "zone": subnet["AvailabilityZone"],
            "publicIp": bool(subnet.get("MapPublicIpOnLaunch")),
        }

    def create(self, cloud: ClientFactory) -> None:
        subnet = cloud.client("ec2").create_subnet(
            VpcId=self.vpc.id,
            CidrBlock=self.cidr,
            AvailabilityZone=self.zone,
            TagSpecifications=tag_specifications("subnet", self.tags),
        )["Subnet"]
        self.id = subnet["SubnetId"]
        self._set_public_ip(cloud)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self._set_public_ip(cloud)

    def _set_public_ip(self, cloud: ClientFactory) -> None:
        cloud.client("ec2").modify_subnet_attribute(
            SubnetId=self.id, MapPublicIpOnLaunch={"Value": self.public}
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ec2").delete_subnet(SubnetId=resource_id)

    @staticmethod
    def ec2_blocks(item: dict[str, Any]) -> list[str]:
        return [item["VpcId"]]
