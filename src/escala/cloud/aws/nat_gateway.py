"""A NAT gateway: a private topology's way out to the internet, one per zone (or one for
the cluster, `--nat single`), in the zone's utility subnet with an Elastic IP (kops's
`NatGateway` task, pkg/model/awsmodel/network.go).

AWS cannot move a NAT gateway to another subnet or address: a change of either is
refused. Creating waits until the gateway is `available`, so the private route tables
never point at a gateway still starting; deleting waits until it is `deleted`, because
until then its address stays in use and the internet gateway keeps "mapped public
addresses" (DependencyViolation on detach). `delete cluster` therefore deletes NAT
gateways before releasing their addresses and detaching the internet gateway: each NAT
gateway found declares that it blocks its subnet, its addresses and its VPC's internet
gateways.
"""

import dataclasses
from typing import Any

from escala.cloud.aws.ec2_task import Ec2Task, discover_ec2
from escala.cloud.aws.elastic_ip import ElasticIp
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.tags import as_dict, tag_specifications
from escala.reconcile.task import Fields, Owned

# A NAT gateway is usually available within a few minutes; deleting takes about as long.
WAIT = {"Delay": 10, "MaxAttempts": 60}
LIVE = ("pending", "available")


@dataclasses.dataclass(eq=False, kw_only=True)
class NatGateway(Ec2Task):
    kind = "NatGateway"
    ec2_describe = "describe_nat_gateways"
    ec2_id_key = "NatGatewayId"
    iam_actions = (
        "ec2:DescribeNatGateways",
        "ec2:CreateNatGateway",
        "ec2:DeleteNatGateway",
        "ec2:DescribeInternetGateways",
        "ec2:CreateTags",
    )
    immutable = frozenset({"subnet", "elasticIp"})

    subnet: Subnet
    elastic_ip: ElasticIp

    def desired(self) -> Fields:
        return {"subnet": self.subnet.name, "elasticIp": self.elastic_ip.name}

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.subnet.vpc.id is None:
            return None
        # By VPC and state, then by Name here: not every EC2 emulator filters by tag.
        gateways = cloud.client("ec2").describe_nat_gateways(
            Filters=[
                {"Name": "vpc-id", "Values": [self.subnet.vpc.id]},
                {"Name": "state", "Values": list(LIVE)},
            ]
        )["NatGateways"]
        mine = [g for g in gateways if as_dict(g.get("Tags")).get("Name") == self.tags["Name"]]
        if not mine:
            return None
        gateway = mine[0]
        self.id = gateway["NatGatewayId"]
        allocations = [a.get("AllocationId") for a in gateway.get("NatGatewayAddresses", [])]
        return {
            "subnet": self.subnet.name
            if gateway["SubnetId"] == self.subnet.id
            else gateway["SubnetId"],
            "elasticIp": self.elastic_ip.name
            if self.elastic_ip.id in allocations
            else ",".join(a for a in allocations if a),
        }

    def create(self, cloud: ClientFactory) -> None:
        ec2 = cloud.client("ec2")
        gateway = ec2.create_nat_gateway(
            SubnetId=self.subnet.id,
            AllocationId=self.elastic_ip.id,
            TagSpecifications=tag_specifications("natgateway", self.tags),
        )["NatGateway"]
        self.id = gateway["NatGatewayId"]
        ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[self.id], WaiterConfig=WAIT)

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        ec2 = cloud.client("ec2")
        ec2.delete_nat_gateway(NatGatewayId=resource_id)
        ec2.get_waiter("nat_gateway_deleted").wait(NatGatewayIds=[resource_id], WaiterConfig=WAIT)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        """The owned gateways, each blocking its VPC's internet gateways as well."""
        found = discover_ec2(cls, cloud, cluster_name)
        if not found:
            return found
        igws = cloud.client("ec2").describe_internet_gateways()["InternetGateways"]
        by_vpc: dict[str, list[str]] = {}
        for igw in igws:
            for attachment in igw.get("Attachments", []):
                by_vpc.setdefault(attachment["VpcId"], []).append(igw["InternetGatewayId"])
        for owned in found:
            vpc = owned.blocks[0]
            owned.blocks = [*owned.blocks, *by_vpc.get(vpc, [])]
        return found

    @staticmethod
    def ec2_blocks(item: dict[str, Any]) -> list[str]:
        addresses = [a["AllocationId"] for a in item.get("NatGatewayAddresses", [])]
        return [item["VpcId"], item["SubnetId"], *[a for a in addresses if a]]

    @staticmethod
    def ec2_gone(item: dict[str, Any]) -> bool:
        return item.get("State") in ("deleted", "failed")
