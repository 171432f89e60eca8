"""The internet gateway that gives the public subnets their way out."""

import dataclasses
from typing import Any

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.session import ClientFactory, unless_gone
from escala.cloud.aws.tags import tag_filters, tag_specifications
from escala.cloud.aws.vpc import Vpc
from escala.reconcile.task import FieldChange, Fields


@dataclasses.dataclass(eq=False, kw_only=True)
class InternetGateway(Ec2Task):
    kind = "InternetGateway"
    ec2_describe = "describe_internet_gateways"
    ec2_id_key = "InternetGatewayId"
    iam_actions = (
        "ec2:DescribeInternetGateways",
        "ec2:CreateInternetGateway",
        "ec2:AttachInternetGateway",
        "ec2:DetachInternetGateway",
        "ec2:DeleteInternetGateway",
        "ec2:CreateTags",
    )

    vpc: Vpc

    def desired(self) -> Fields:
        return {"vpc": self.vpc.name}

    def find(self, cloud: ClientFactory) -> Fields | None:
        answer = cloud.client("ec2").describe_internet_gateways(Filters=tag_filters(self.tags))
        if not answer["InternetGateways"]:
            return None
        igw = answer["InternetGateways"][0]
        self.id = igw["InternetGatewayId"]
        attached = {a["VpcId"] for a in igw.get("Attachments", [])}
        return {"vpc": self.vpc.name if self.vpc.id in attached else None}

    def create(self, cloud: ClientFactory) -> None:
        igw = cloud.client("ec2").create_internet_gateway(
            TagSpecifications=tag_specifications("internet-gateway", self.tags)
        )["InternetGateway"]
        self.id = igw["InternetGatewayId"]
        self._attach(cloud)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self._attach(cloud)

    def _attach(self, cloud: ClientFactory) -> None:
        cloud.client("ec2").attach_internet_gateway(InternetGatewayId=self.id, VpcId=self.vpc.id)

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        ec2 = cloud.client("ec2")
        igw = ec2.describe_internet_gateways(InternetGatewayIds=[resource_id])
        for attachment in igw["InternetGateways"][0].get("Attachments", []):
            unless_gone(
                ec2.detach_internet_gateway,
                "Gateway.NotAttached",
                InternetGatewayId=resource_id,
                VpcId=attachment["VpcId"],
            )
        ec2.delete_internet_gateway(InternetGatewayId=resource_id)

    @staticmethod
    def ec2_blocks(item: dict[str, Any]) -> list[str]:
        return [a["VpcId"] for a in item.get("Attachments", [])]
