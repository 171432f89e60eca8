"""What both platforms of a chat service share. Pure: no AWS calls.

The front: a VPC of their own (escala.model.network), an
internet-facing Application Load Balancer whose security group lets HTTP in from
`spec.httpAccess`, and a sticky HTTP target group on the chat's port, health-checked on
/readyz (503 while a replica drains, so the load balancer stops sending it clients).
The platform adds what runs the chat (escala.model.chat_service picks it).
Every resource carries the ownership tags of the service's name.
"""

import dataclasses
from typing import Any

from escala.api.chat_service_spec import CHAT_PORT, ChatService
from escala.cloud.aws.load_balancer import Listener, LoadBalancer, TargetGroup, elb_name
from escala.cloud.aws.security_group import SecurityGroup, SecurityGroupRule
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.tags import cluster_tags
from escala.cloud.aws.vpc import Vpc
from escala.model.network import network_tasks
from escala.reconcile.task import Task

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
    tasks: list[Task]

    def tags(self, name: str) -> dict[str, str]:
        return cluster_tags(self.service.name, name)

    def app_group(self, role: str, description: str) -> tuple[SecurityGroup, SecurityGroupRule]:
        """The security group of the chat's instances or tasks, and its one rule: the
        chat's port from the load balancer only."""
        name = f"{role}.{self.service.name}"
        group = SecurityGroup(
            name=name,
            tags=self.tags(name),
            vpc=self.vpc,
            description=f"{description} of chat service {self.service.name}",
        )
        rule = SecurityGroupRule(
            name=f"{role}-chat-from-alb.{self.service.name}",
            group=group,
            from_port=CHAT_PORT,
            to_port=CHAT_PORT,
            source=self.alb_group,
        )
        return group, rule


def build_front(service: ChatService, target_type: str) -> Front:
    spec, name = service.spec, service.name

    def tags(resource: str) -> dict[str, str]:
        return cluster_tags(name, resource)

    network = network_tasks(name, tags, str(spec.network_cidr), spec.subnets)
    vpc = next(t for t in network if isinstance(t, Vpc))
    subnets = [t for t in network if isinstance(t, Subnet)]
    alb_group_name = f"alb.{name}"
    alb_group = SecurityGroup(
        name=alb_group_name,
        tags=tags(alb_group_name),
        vpc=vpc,
        description=f"Load balancer of chat service {name}",
        managed_ports=(HTTP_PORT,),
    )
    rules = [
        SecurityGroupRule(
            name=f"alb-http-from-{cidr}.{name}",
            group=alb_group,
            from_port=HTTP_PORT,
            to_port=HTTP_PORT,
            cidr=cidr,
        )
        for cidr in spec.http_access
    ]
    lb_name = elb_name("chat", name)
    lb = LoadBalancer(
        name=lb_name, tags=tags(lb_name), subnets=subnets, security_groups=[alb_group],
        type="application",
    )  # fmt: skip
    target = TargetGroup(
        name=lb_name,
        tags=tags(lb_name),
        vpc=vpc,
        port=CHAT_PORT,
        protocol="HTTP",
        health_check_path=HEALTH_CHECK_PATH,
        target_type=target_type,
        sticky=True,
    )
    listener = Listener(
        name=lb_name, tags=tags(lb_name), load_balancer=lb, target_group=target,
        port=HTTP_PORT, protocol="HTTP",
    )  # fmt: skip
    tasks = [*network, alb_group, *rules, lb, target, listener]
    return Front(service, vpc, subnets, alb_group, target, tasks)


def parameter_arns(service: ChatService, names: list[str]) -> list[str]:
    """The ARNs of the service's SSM parameters, in its region, in any account."""
    return [f"arn:aws:ssm:{service.spec.region}:*:parameter/{name.lstrip('/')}" for name in names]


def statement(actions: tuple[str, ...] | list[str], resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resource}
