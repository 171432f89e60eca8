"""The EC2 case: the chat's instances in an Auto Scaling Group behind the load balancer.

A launch template and its Auto Scaling Group (escala.model.launch_group): the AMI,
IMDSv2 only, an encrypted gp3 root disk, the Docker user-data of
escala.model.chat_service.user_data; an instance role that may read only the service's
SSM parameters, pull from ECR and write the service's log group. The group spreads over
every zone's subnet, registers its instances in the target group and replaces those the
load balancer finds unhealthy; target-tracking policies keep the group's average CPU at
`spec.cpuTarget` of the chat's one core (so cpuTarget / N % of an N-vCPU instance, see
escala.api.chat_scaling) and/or its connected clients per instance at
`spec.connectionsTarget`. Its instances have detailed monitoring: target tracking acts
on 1-minute CPU datapoints.

Docker's awslogs driver ships the chat's output to the service's log group, as ECS does
for the Fargate case; the chat's EMF lines in it become its CloudWatch metrics. That
needs no CloudWatch agent to install and configure, and no CloudWatch permission in the
chat: only the Docker daemon writes, with the instance role, to that one log group.
"""

from escala.api.chat_scaling import ReplicaCpu
from escala.cloud.aws.iam_role import IamRole
from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.log_group import LogGroup
from escala.cloud.aws.scaling_policy import ASG_CPU, ScalingPolicy, TrackedMetric
from escala.model.chat_service.front import (
    Front,
    add_app_group,
    log_group_name,
    log_writer_statement,
    parameter_arns,
    trackings,
)
from escala.model.chat_service.parameters import parameter_env
from escala.model.chat_service.user_data import render_chat_user_data
from escala.model.context import ModelContext
from escala.model.iam_policy import ECR_READ, statement
from escala.model.launch_group import build_launch_group

# Time an instance gets to boot, install Docker and pull the image before the load
# balancer's verdict counts.
HEALTH_CHECK_GRACE = 300


def instance_policy(front: Front) -> dict[str, object]:
    names = list(parameter_env(front.service).values())
    return {
        "Version": "2012-10-17",
        "Statement": [
            statement(["ssm:GetParameter"], parameter_arns(front.service, names)),
            statement(ECR_READ),
            log_writer_statement(front),
        ],
    }


def build_ec2(ctx: ModelContext, front: Front, replica: ReplicaCpu) -> None:
    """`replica`: the vCPUs of `spec.machineType` (escala.ops looks them up)."""
    service, spec = front.service, front.service.spec
    name = service.name
    security_group = add_app_group(ctx, front, "instances", "Chat instances")
    ctx.add(LogGroup(name=log_group_name(name), tags=ctx.tags(log_group_name(name))))
    role_name = f"instances.{name}"
    role = ctx.add(IamRole(name=role_name, tags=ctx.tags(role_name), policy=instance_policy(front)))
    profile = ctx.add(InstanceProfile(name=role_name, tags=ctx.tags(role_name), role=role))
    group_name = f"chat.{name}"
    group = build_launch_group(
        ctx,
        group_name,
        tags=ctx.tags(group_name),
        image=str(spec.ami),
        machine_type=str(spec.machine_type),
        root_volume_size=int(spec.root_volume_size or 0),
        root_volume_type="gp3",
        instance_profile=profile,
        security_groups=[security_group],
        user_data=render_chat_user_data(service),
        min_size=int(spec.min_size or 0),
        max_size=int(spec.max_size or 0),
        subnets=front.subnets,
        target_groups=[front.target_group],
        elb_health_check_grace=HEALTH_CHECK_GRACE,
        detailed_monitoring=True,
    )
    for tracking in trackings(service, TrackedMetric(predefined=ASG_CPU), replica):
        ctx.add(ScalingPolicy(group=group, **tracking.policy_fields(ctx)))
