"""The network: VPC, one subnet per zone, internet gateway, route table."""

from escala.api import SubnetType
from escala.cloud.aws.internet_gateway import InternetGateway
from escala.cloud.aws.route_table import RouteTable
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.vpc import Vpc
from escala.model.context import ModelContext


def build_network(ctx: ModelContext) -> None:
    spec = ctx.cluster.spec
    ctx.require(spec.network_cidr, "spec.networkCIDR")
    ctx.require(spec.subnets, "spec.subnets")
    name = ctx.cluster_name
    vpc = Vpc(name=name, tags=ctx.tags(name), cidr=str(spec.network_cidr))
    ctx.add(vpc)
    subnets = []
    for i, subnet in enumerate(spec.subnets):
        ctx.require(subnet.cidr, f"spec.subnets[{i}].cidr")
        subnets.append(
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
        )
    igw = InternetGateway(name=name, tags=ctx.tags(name), vpc=vpc)
    ctx.add(igw)
    ctx.add(
        RouteTable(name=name, tags=ctx.tags(name), vpc=vpc, internet_gateway=igw, subnets=subnets)
    )
