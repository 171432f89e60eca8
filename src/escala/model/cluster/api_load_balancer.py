"""The API's Network Load Balancer across every zone: TCP 443 -> masters' 6443.

Internet-facing in both topologies; in the private one it lives in the utility subnets
(kops's layout), the masters behind it in the private ones.
"""

from escala.api import SubnetType
from escala.cloud.aws.load_balancer import (
    Listener,
    LoadBalancer,
    TargetGroup,
    api_load_balancer_name,
    elb_name,
)
from escala.cloud.aws.security_group import SecurityGroup
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.vpc import Vpc
from escala.model.cluster.firewall import API_ELB, security_group_name
from escala.model.context import ClusterContext


def build_api_load_balancer(ctx: ClusterContext) -> None:
    name = api_load_balancer_name(ctx.cluster_name)
    subnets = [
        ctx.get(Subnet, s.name)
        for s in ctx.cluster.spec.subnets
        if s.type is not SubnetType.private
    ]
    lb = LoadBalancer(
        name=name,
        tags=ctx.tags(name),
        subnets=subnets,
        security_groups=[ctx.get(SecurityGroup, security_group_name(API_ELB, ctx.cluster_name))],
    )
    target_name = elb_name("tcp", ctx.cluster_name)
    target = TargetGroup(
        name=target_name,
        tags=ctx.tags(target_name),
        vpc=ctx.get(Vpc, ctx.cluster_name),
    )
    ctx.add(lb)
    ctx.add(target)
    ctx.add(Listener(name=name, tags=ctx.tags(name), load_balancer=lb, target_group=target))
