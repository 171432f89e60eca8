"""What both platforms of a chat service share. Pure: no AWS calls.

The front: a VPC of their own (escala.model.network.add_network), an
internet-facing Application Load Balancer whose security group lets HTTP in from
`spec.httpAccess`, and a sticky HTTP target group on the chat's port, health-checked on
/readyz (503 while a replica drains, so the load balancer stops sending it clients).
The platform adds what runs the chat (escala.model.chat_service picks it), to the same
ModelContext, so every resource carries the ownership tags of the service's name.
"""

import dataclasses

from escala.api.chat_service_spec import CHAT_PORT, ChatService
from escala.cloud.aws.load_balancer import Listener, LoadBalancer, TargetGroup, elb_name
from escala.cloud.aws.security_group import SecurityGroup, SecurityGroupRule
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.vpc import Vpc
from escala.model.context import ModelContext
from escala.model.network import add_network

HTTP_PORT = 80
HEALTH_CHECK_PATH = "/readyz"


@dataclasses.dataclass
class Front:
    """What the platform builders attach to: the network and the load balancer."""

    service: ChatService
    vpc: Vpc
    subnets: list[Subnet]
    alb_group: SecurityGroup
    target_group: TargetGroup
    listener: Listener


def add_app_group(ctx: ModelContext, front: Front, role: str, description: str) -> SecurityGroup:
    """The security group of the chat's instances or tasks, and its one rule: the chat's
    port from the load balancer only."""
    name = f"{role}.{ctx.owner}"
    group = ctx.add(
        SecurityGroup(
            name=name,
            tags=ctx.tags(name),
            vpc=front.vpc,
            description=f"{description} of chat service {ctx.owner}",
        )
    )
    ctx.add(
        SecurityGroupRule(
            name=f"{role}-chat-from-alb.{ctx.owner}",
            group=group,
            from_port=CHAT_PORT,
            to_port=CHAT_PORT,
            source=front.alb_group,
        )
    )
    return group


def build_front(ctx: ModelContext, service: ChatService, target_type: str) -> Front:
    spec, name = service.spec, service.name
    vpc, subnets = add_network(ctx, str(spec.network_cidr), spec.subnets)
    alb_group_name = f"alb.{name}"
    alb_group = ctx.add(
        SecurityGroup(
            name=alb_group_name,
            tags=ctx.tags(alb_group_name),
            vpc=vpc,
            description=f"Load balancer of chat service {name}",
            managed_ports=(HTTP_PORT,),
        )
    )
    for cidr in spec.http_access:
        ctx.add(
            SecurityGroupRule(
                name=f"alb-http-from-{cidr}.{name}",
                group=alb_group,
                from_port=HTTP_PORT,
                to_port=HTTP_PORT,
                cidr=cidr,
            )
        )
    lb_name = elb_name("chat", name)
    lb = ctx.add(
        LoadBalancer(
            name=lb_name,
            tags=ctx.tags(lb_name),
            subnets=subnets,
            security_groups=[alb_group],
            type="application",
        )
    )
    target = ctx.add(
        TargetGroup(
            name=lb_name,
            tags=ctx.tags(lb_name),
            vpc=vpc,
            port=CHAT_PORT,
            protocol="HTTP",
            health_check_path=HEALTH_CHECK_PATH,
            target_type=target_type,
            sticky=True,
        )
    )
    listener = ctx.add(
        Listener(
            name=lb_name,
            tags=ctx.tags(lb_name),
            load_balancer=lb,
            target_group=target,
            port=HTTP_PORT,
            protocol="HTTP",
        )
    )
    return Front(service, vpc, subnets, alb_group, target, listener)


def parameter_arns(service: ChatService, names: list[str]) -> list[str]:
    """The ARNs of the service's SSM parameters, in its region, in any account."""
    return [f"arn:aws:ssm:{service.spec.region}:*:parameter/{name.lstrip('/')}" for name in names]
