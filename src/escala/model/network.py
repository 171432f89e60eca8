"""The network: VPC, one subnet per zone, internet gateway, route table.

`add_network` is shared by the cluster and the chat services (escala.model.chat_service), which
each get a VPC of their own.
"""

from escala.api import Subnet as SubnetSpec
from escala.api import SubnetType
from escala.cloud.aws.internet_gateway import InternetGateway
from escala.cloud.aws.route_table import RouteTable
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.vpc import Vpc
from escala.model.context import ClusterContext, ModelContext


def add_network(
    ctx: ModelContext, cidr: str, subnets: list[SubnetSpec]
) -> tuple[Vpc, list[Subnet]]:
    """The VPC named after the owner, its subnets, internet gateway and route table."""
    name = ctx.owner
    vpc = ctx.add(Vpc(name=name, tags=ctx.tags(name), cidr=cidr))
    subnet_tasks = [
        ctx.add(
            Subnet(
                name=subnet.name,
                tags=ctx.tags(f"{subnet.name}.{name}"),
                vpc=vpc,
                zone=subnet.zone,
                cidr=str(subnet.cidr),
                public=subnet.type is SubnetType.public,
            )
        )
        for subnet in subnets
    ]
    igw = ctx.add(InternetGateway(name=name, tags=ctx.tags(name), vpc=vpc))
    ctx.add(
        RouteTable(
            name=name, tags=ctx.tags(name), vpc=vpc, internet_gateway=igw, subnets=subnet_tasks
        )
    )
    return vpc, subnet_tasks


def build_network(ctx: ClusterContext) -> None:
    spec = ctx.cluster.spec
    ctx.require(spec.network_cidr, "spec.networkCIDR")
    ctx.require(spec.subnets, "spec.subnets")
    for i, subnet in enumerate(spec.subnets):
        ctx.require(subnet.cidr, f"spec.subnets[{i}].cidr")
    add_network(ctx, str(spec.network_cidr), spec.subnets)
