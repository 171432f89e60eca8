"""A route table, its default route and the subnets it serves.

The public one (the cluster's, `<cluster>`) routes 0.0.0.0/0 through the internet
gateway and serves the public or utility subnets; in the private topology each zone's
private subnet has one of its own (`private-<zone>.<cluster>`, kops's name) routing
0.0.0.0/0 through a NAT gateway. (With kubenet, Kubernetes adds one pod-CIDR route per
node to the cluster's table; those are not ours to compare or remove.)"""

import dataclasses
from typing import Any

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.internet_gateway import InternetGateway
from escala.cloud.aws.nat_gateway import NatGateway
from escala.cloud.aws.session import ClientFactory, unless_gone
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.tags import tag_specifications
from escala.cloud.aws.vpc import Vpc
from escala.reconcile.task import FieldChange, Fields

DEFAULT_ROUTE = "0.0.0.0/0"


@dataclasses.dataclass(eq=False, kw_only=True)
class RouteTable(Ec2Task):
    kind = "RouteTable"
    ec2_describe = "describe_route_tables"
    ec2_id_key = "RouteTableId"
    iam_actions = (
        "ec2:DescribeRouteTables",
        "ec2:CreateRouteTable",
        "ec2:CreateRoute",
        "ec2:ReplaceRoute",
        "ec2:AssociateRouteTable",
        "ec2:DisassociateRouteTable",
        "ec2:DeleteRouteTable",
        "ec2:CreateTags",
    )

    vpc: Vpc
    subnets: list[Subnet]
    # the default route's target: one of the two
    internet_gateway: InternetGateway | None = None
    nat_gateway: NatGateway | None = None

    @property
    def _gateway(self) -> InternetGateway | NatGateway:
        gateway = self.internet_gateway or self.nat_gateway
        assert gateway is not None, f"{self.key}: a default route needs a gateway"
        return gateway

    def _route_target(self) -> dict[str, str | None]:
        if self.nat_gateway is not None:
            return {"NatGatewayId": self.nat_gateway.id}
        return {"GatewayId": self._gateway.id}

    def _gateway_shown(self) -> str:
        """The internet gateway by name (as ever), a NAT gateway by its key: both are
        named after a zone or the cluster, and the plan must say which one is meant."""
        return self._gateway.key if self.nat_gateway is not None else self._gateway.name

    def desired(self) -> Fields:
        return {
            "defaultRoute": self._gateway_shown(),
            "subnets": sorted(s.name for s in self.subnets),
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.vpc.id is None:
            return None
        answer = cloud.client("ec2").describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [self.vpc.id]},
                {"Name": "tag:Name", "Values": [self.tags["Name"]]},
            ]
        )
        if not answer["RouteTables"]:
            return None
        table = answer["RouteTables"][0]
        self.id = table["RouteTableId"]
        gateway = next(
            (
                r.get("NatGatewayId") or r.get("GatewayId")
                for r in table["Routes"]
                if r.get("DestinationCidrBlock") == DEFAULT_ROUTE
            ),
            None,
        )
        by_id = {s.id: s.name for s in self.subnets}
        associated = [a.get("SubnetId") for a in table.get("Associations", [])]
        return {
            "defaultRoute": self._gateway_shown()
            if gateway and gateway == self._gateway.id
            else gateway,
            "subnets": sorted(by_id.get(s, s) for s in associated if s),
        }

    def create(self, cloud: ClientFactory) -> None:
        table = cloud.client("ec2").create_route_table(
            VpcId=self.vpc.id, TagSpecifications=tag_specifications("route-table", self.tags)
        )["RouteTable"]
        self.id = table["RouteTableId"]
        self.update(cloud, self.diff({"defaultRoute": None, "subnets": []}))

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        ec2 = cloud.client("ec2")
        for change in changes:
            if change.field == "defaultRoute":
                route = {
                    "RouteTableId": self.id,
                    "DestinationCidrBlock": DEFAULT_ROUTE,
                    **self._route_target(),
                }
                if change.old is None:
                    ec2.create_route(**route)
                else:
                    ec2.replace_route(**route)
            elif change.field == "subnets":
                for subnet in self.subnets:
                    if subnet.name not in (change.old or []):
                        ec2.associate_route_table(RouteTableId=self.id, SubnetId=subnet.id)

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        ec2 = cloud.client("ec2")
        table = ec2.describe_route_tables(RouteTableIds=[resource_id])["RouteTables"][0]
        for association in table.get("Associations", []):
            if not association.get("Main"):
                unless_gone(
                    ec2.disassociate_route_table,
                    AssociationId=association["RouteTableAssociationId"],
                )
        ec2.delete_route_table(RouteTableId=resource_id)

    @staticmethod
    def ec2_blocks(item: dict[str, Any]) -> list[str]:
        return [item["VpcId"]]
