"""The cluster's VPC, with DNS support and hostnames (both needed by Kubernetes on AWS)."""

import dataclasses

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import tag_filters, tag_specifications
from escala.reconcile.task import FieldChange, Fields


@dataclasses.dataclass(eq=False, kw_only=True)
class Vpc(Ec2Task):
    kind = "VPC"
    ec2_describe = "describe_vpcs"
    ec2_id_key = "VpcId"
    iam_actions = (
        "ec2:DescribeVpcs",
        "ec2:DescribeVpcAttribute",
        "ec2:CreateVpc",
        "ec2:ModifyVpcAttribute",
        "ec2:DeleteVpc",
        "ec2:CreateTags",
    )
    immutable = frozenset({"cidr"})

    cidr: str

    def desired(self) -> Fields:
        return {"cidr": self.cidr, "dnsSupport": True, "dnsHostnames": True}

    def find(self, cloud: ClientFactory) -> Fields | None:
        ec2 = cloud.client("ec2")
        filters = tag_filters(self.tags)
        vpcs = ec2.describe_vpcs(Filters=filters)["Vpcs"]
        if not vpcs:
            return None
        vpc = vpcs[0]
        self.id = vpc["VpcId"]

        def attribute(name: str, key: str) -> bool:
            answer = ec2.describe_vpc_attribute(VpcId=self.id, Attribute=name)
            return bool(answer[key]["Value"])

        return {
            "cidr": vpc["CidrBlock"],
            "dnsSupport": attribute("enableDnsSupport", "EnableDnsSupport"),
            "dnsHostnames": attribute("enableDnsHostnames", "EnableDnsHostnames"),
        }

    def create(self, cloud: ClientFactory) -> None:
        ec2 = cloud.client("ec2")
        vpc = ec2.create_vpc(
            CidrBlock=self.cidr, TagSpecifications=tag_specifications("vpc", self.tags)
        )["Vpc"]
        self.id = vpc["VpcId"]
        self._set_dns(cloud)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self._set_dns(cloud)

    def _set_dns(self, cloud: ClientFactory) -> None:
        ec2 = cloud.client("ec2")
        ec2.modify_vpc_attribute(VpcId=self.id, EnableDnsSupport={"Value": True})
        ec2.modify_vpc_attribute(VpcId=self.id, EnableDnsHostnames={"Value": True})

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ec2").delete_vpc(VpcId=resource_id)
