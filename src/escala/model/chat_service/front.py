"""What both platforms of a chat service share. Pure: no AWS calls.

The front: a VPC of their own (escala.model.network.add_network), an
internet-facing Application Load Balancer whose security group lets HTTP in from
`spec.httpAccess`, and a sticky HTTP target group on the chat's port, health-checked on
/readyz (503 while a replica drains, so the load balancer stops sending it clients).
The platform adds what runs the chat (escala.model.chat_service picks it), to the same
ModelContext, so every resource carries the ownership tags of the service's name.
"""

import dataclasses
from typing import Any

from escala.api.chat_scaling import ReplicaCpu
from escala.api.chat_service_spec import (
    CHAT_PORT,
    CONNECTIONS_METRIC,
    METRICS_NAMESPACE,
    SERVICE_DIMENSION,
    ChatService,
    ChatServiceSpec,
    ScaleSignal,
)
from escala.cloud.aws.load_balancer import Listener, LoadBalancer, TargetGroup, elb_name
from escala.cloud.aws.log_group import PREFIX
from escala.cloud.aws.scaling_policy import TrackedMetric
from escala.cloud.aws.security_group import SecurityGroup, SecurityGroupRule
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.vpc import Vpc
from escala.model.context import ModelContext
from escala.model.iam_policy import statement
from escala.model.network import add_network

HTTP_PORT = 80
HEALTH_CHECK_PATH = "/readyz"
# The variable that makes each replica write its CloudWatch metrics (escala.chat.cloudwatch)
# as EMF lines on its log stream, dimension Service=<name>.
METRICS_ENV = "ESCALA_CHAT_CLOUDWATCH_SERVICE"
ALLOW_ORIGIN_ENV = "ESCALA_CHAT_ALLOW_ORIGIN"  # `chat serve --allow-origin`
ALLOW_EIO3_ENV = "ESCALA_CHAT_ALLOW_EIO3"  # `chat serve --allow-eio3`


def spec_env(spec: ChatServiceSpec) -> dict[str, str]:
    """The `chat serve` flags a spec sets, as its variables, for EC2 and Fargate alike:
    the origins allowed besides the balancer's own, Socket.IO 2 clients; each absent
    when the spec leaves it off."""
    env: dict[str, str] = {}
    if spec.allow_origin:
        env[ALLOW_ORIGIN_ENV] = ",".join(spec.allow_origin)
    if spec.allow_eio3:
        env[ALLOW_EIO3_ENV] = "true"
    return env


def connections_metric(service_name: str) -> TrackedMetric:
    """Connected clients averaged over the service's replicas (each reports its own)."""
    return TrackedMetric(
        namespace=METRICS_NAMESPACE,
        name=CONNECTIONS_METRIC,
        dimensions=((SERVICE_DIMENSION, service_name),),
    )


@dataclasses.dataclass(frozen=True)
class Tracking:
    """One target-tracking policy the service wants: its name, metric and target."""

    policy_name: str
    metric: TrackedMetric
    target: float

    def policy_fields(self, ctx: ModelContext) -> dict[str, Any]:
        """The fields both platforms' policy tasks take (all but what they scale)."""
        return {
            "name": self.policy_name,
            "tags": ctx.tags(self.policy_name),
            "target_value": self.target,
            "metric": self.metric,
        }


def trackings(service: ChatService, cpu: TrackedMetric, replica: ReplicaCpu) -> list[Tracking]:
    """A policy per signal of `spec.scaleOn`; `cpu` is the platform's predefined metric,
    a percentage of the `replica`'s vCPUs, so its target is `spec.cpuTarget` (of the
    chat's one core) translated (escala.api.chat_scaling)."""
    spec, name = service.spec, service.name
    out = []
    for signal in service.scale_signals:
        if signal is ScaleSignal.cpu:
            target = replica.metric_target(float(spec.cpu_target or 0))
            out.append(Tracking(f"cpu-target.{name}", cpu, target))
        else:
            out.append(
                Tracking(
                    f"connections-target.{name}",
                    connections_metric(name),
                    float(spec.connections_target or 0),
                )
            )
    return out


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


def log_group_name(service_name: str) -> str:
    """Where the replicas' output (and so their EMF metrics) goes, on either platform."""
    return f"{PREFIX}chat/{service_name}"


def log_writer_statement(front: Front) -> dict[str, Any]:
    """May write log streams of the service's log group, and nothing else in Logs."""
    spec, name = front.service.spec, front.service.name
    logs = f"arn:aws:logs:{spec.region}:*:log-group:{log_group_name(name)}:*"
    return statement(["logs:CreateLogStream", "logs:PutLogEvents"], logs)


def parameter_arns(service: ChatService, names: list[str]) -> list[str]:
    """The ARNs of the service's SSM parameters, in its region, in any account."""
    return [f"arn:aws:ssm:{service.spec.region}:*:parameter/{name.lstrip('/')}" for name in names]
