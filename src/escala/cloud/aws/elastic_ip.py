"""An Elastic IP: the fixed public address a NAT gateway sends the private subnets'
traffic from (kops's `ElasticIP` task, one per zone's NAT gateway).

Nothing of an address can change; it is allocated, found by its Name tag, and released.
Releasing waits for the NAT gateway that uses it (escala.cloud.aws.nat_gateway declares
that it blocks the address), and AWS answers `InvalidIPAddress.InUse` meanwhile.
"""

import dataclasses

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import tag_filters, tag_specifications
from escala.reconcile.task import Fields


@dataclasses.dataclass(eq=False, kw_only=True)
class ElasticIp(Ec2Task):
    kind = "ElasticIP"
    ec2_describe = "describe_addresses"
    ec2_id_key = "AllocationId"
    iam_actions = (
        "ec2:DescribeAddresses",
        "ec2:AllocateAddress",
        "ec2:ReleaseAddress",
        "ec2:CreateTags",
    )

    public_ip: str | None = dataclasses.field(default=None, init=False)

    def desired(self) -> Fields:
        return {"domain": "vpc"}

    def find(self, cloud: ClientFactory) -> Fields | None:
        addresses = cloud.client("ec2").describe_addresses(Filters=tag_filters(self.tags))[
            "Addresses"
        ]
        if not addresses:
            return None
        address = addresses[0]
        self.id, self.public_ip = address["AllocationId"], address.get("PublicIp")
        return {"domain": address.get("Domain", "vpc")}

    def create(self, cloud: ClientFactory) -> None:
        address = cloud.client("ec2").allocate_address(
            Domain="vpc", TagSpecifications=tag_specifications("elastic-ip", self.tags)
        )
        self.id, self.public_ip = address["AllocationId"], address.get("PublicIp")

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ec2").release_address(AllocationId=resource_id)
