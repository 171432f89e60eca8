"""The network: VPC, one subnet per zone, internet gateway, route table.

`network_tasks` is shared by the cluster and the chat services (escala.model.chat_service), which
each get a VPC of their own.
"""

from collections.abc import Callable

from escala.api import Subnet as SubnetSpec
from escala.api import SubnetType
from escala.cloud.aws.internet_gateway import InternetGateway
from escala.cloud.aws.route_table import RouteTable
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.vpc import Vpc
from escala.model.context import ModelContext
from escala.reconcile.task import Task


def network_tasks(
    name: str, tags: Callable[[str], dict[str, str]], cidr: str, subnets: list[SubnetSpec]
) -> list[Task]:
    """The VPC `name` (first), its subnets, internet gateway and route table."""
    vpc = Vpc(name=name, tags=tags(name), cidr=cidr)
    subnet_tasks = [
        Subnet(
            name=subnet.name,
            tags=tags(f"{subnet.name}.{name}"),
            vpc=vpc,
            zone=subnet.zone,
            cidr=str(subnet.cidr),
            public=subnet.type is SubnetType.public,
        )
        for subnet in subnets
    ]
    igw = InternetGateway(name=name, tags=tags(name), vpc=vpc)
    table = RouteTable(
        name=name, tags=tags(name), vpc=vpc, internet_gateway=igw, subnets=subnet_tasks
    )
    return [vpc, *subnet_tasks, igw, table]


def build_network(ctx: ModelContext) -> None:
    spec = ctx.cluster.spec
    ctx.require(spec.network_cidr, "spec.networkCIDR")
    ctx.require(spec.subnets, "spec.subnets")
    for i, subnet in enumerate(spec.subnets):
        ctx.require(subnet.cidr, f"spec.subnets[{i}].cidr")
    for task in network_tasks(ctx.cluster_name, ctx.tags, str(spec.network_cidr), spec.subnets):
        ctx.add(task)
