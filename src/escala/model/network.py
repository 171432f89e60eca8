"""The network: VPC, subnets, internet gateway, route tables and, for private subnets,
their NAT gateways.

`add_network` is shared by the cluster and the chat services (escala.model.chat_service), which
each get a VPC of their own. The private topology is kops's (pkg/model/awsmodel/network.go,
docs/topology.md): the machines' private subnets get no public IPs and a route table per
zone whose default route goes through a NAT gateway, which sits, with its Elastic IP, in
the zone's utility subnet; utility (and public) subnets share the cluster's route table
through the internet gateway. With `nat: single` there is one NAT gateway, in the first
zone, and every zone's route table points at it.
"""

from escala.api import NatMode, SubnetType
from escala.api import Subnet as SubnetSpec
from escala.cloud.aws.elastic_ip import ElasticIp
from escala.cloud.aws.internet_gateway import InternetGateway
from escala.cloud.aws.nat_gateway import NatGateway
from escala.cloud.aws.route_table import RouteTable
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.vpc import Vpc
from escala.model.context import ClusterContext, ModelContext

# The tags Kubernetes' AWS code reads to place a Service's load balancer (kops sets them
# the same way, pkg/model/awsmodel/network.go): internet-facing ones in public or utility
# subnets, internal ones in private subnets (in public ones too when there are none).
ELB_TAG, INTERNAL_ELB_TAG = "kubernetes.io/role/elb", "kubernetes.io/role/internal-elb"


def _subnet_tags(ctx: ModelContext, subnet: SubnetSpec, any_private: bool) -> dict[str, str]:
    roles = {ELB_TAG: "1"} if subnet.type is not SubnetType.private else {}
    if subnet.type is SubnetType.private or not any_private:
        roles[INTERNAL_ELB_TAG] = "1"
    return ctx.tags(f"{subnet.name}.{ctx.owner}", SubnetType=subnet.type.value, **roles)


def private_route_table_name(zone: str, owner: str) -> str:
    """kops's name for a zone's private route table."""
    return f"private-{zone}.{owner}"


def add_network(
    ctx: ModelContext, cidr: str, subnets: list[SubnetSpec], nat: NatMode | None = None
) -> tuple[Vpc, list[Subnet]]:
    """The VPC named after the owner, its subnets, internet gateway and route tables (and
    NAT gateways when some subnets are private)."""
    name = ctx.owner
    vpc = ctx.add(Vpc(name=name, tags=ctx.tags(name), cidr=cidr))
    any_private = any(s.type is SubnetType.private for s in subnets)
    subnet_tasks = [
        ctx.add(
            Subnet(
                name=subnet.name,
                tags=_subnet_tags(ctx, subnet, any_private),
                vpc=vpc,
                zone=subnet.zone,
                cidr=str(subnet.cidr),
                public=subnet.type is not SubnetType.private,
            )
        )
        for subnet in subnets
    ]
    igw = ctx.add(InternetGateway(name=name, tags=ctx.tags(name), vpc=vpc))
    private = [t for t in subnet_tasks if not t.public]
    public = [t for t in subnet_tasks if t.public]
    ctx.add(
        RouteTable(name=name, tags=ctx.tags(name), vpc=vpc, internet_gateway=igw, subnets=public)
    )
    if private:
        _add_egress(ctx, vpc, private, public, nat or NatMode.per_zone)
    return vpc, subnet_tasks


def _add_egress(
    ctx: ModelContext, vpc: Vpc, private: list[Subnet], public: list[Subnet], nat: NatMode
) -> None:
    """A NAT gateway (with its Elastic IP) per zone of `private`, or one, in the zone's
    public subnet; a route table per zone sending the private subnets through it."""
    zones = list(dict.fromkeys(s.zone for s in private))
    public_in = {s.zone: s for s in reversed(public)}  # the first public subnet of a zone
    gateways: dict[str, NatGateway] = {}
    for zone in zones[:1] if nat is NatMode.single else zones:
        name = f"{zone}.{ctx.owner}"
        eip = ctx.add(ElasticIp(name=name, tags=ctx.tags(name)))
        gateways[zone] = ctx.add(
            NatGateway(name=name, tags=ctx.tags(name), subnet=public_in[zone], elastic_ip=eip)
        )
    for zone in zones:
        name = private_route_table_name(zone, ctx.owner)
        ctx.add(
            RouteTable(
                name=name,
                tags=ctx.tags(name),
                vpc=vpc,
                nat_gateway=gateways.get(zone, gateways[zones[0]]),
                subnets=[s for s in private if s.zone == zone],
            )
        )


def build_network(ctx: ClusterContext) -> None:
    spec = ctx.cluster.spec
    ctx.require(spec.network_cidr, "spec.networkCIDR")
    ctx.require(spec.subnets, "spec.subnets")
    for i, subnet in enumerate(spec.subnets):
        ctx.require(subnet.cidr, f"spec.subnets[{i}].cidr")
    nat = spec.topology.nat if spec.topology else None
    add_network(ctx, str(spec.network_cidr), spec.subnets, nat)
