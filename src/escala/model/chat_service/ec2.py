"""The EC2 case: the chat's instances in an Auto Scaling Group behind the load balancer.

A launch template and its Auto Scaling Group (escala.model.launch_group): the AMI,
IMDSv2 only, an encrypted gp3 root disk, the Docker user-data of
escala.model.chat_service.user_data; an instance role that may read only the service's
SSM parameters and pull from ECR. The group spreads over every zone's subnet, registers
its instances in the target group and replaces those the load balancer finds unhealthy;
a target-tracking policy keeps the group's average CPU at `spec.cpuTarget`.
"""

from escala.cloud.aws.iam_role import IamRole
from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.scaling_policy import ScalingPolicy
from escala.model.chat_service.front import Front, add_app_group, parameter_arns
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
        ],
    }


def build_ec2(ctx: ModelContext, front: Front) -> None:
    service, spec = front.service, front.service.spec
    name = service.name
    security_group = add_app_group(ctx, front, "instances", "Chat instances")
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
    )
    policy_name = f"cpu-target.{name}"
    ctx.add(
        ScalingPolicy(
            name=policy_name,
            tags=ctx.tags(policy_name),
            group=group,
            cpu_target=float(spec.cpu_target or 0),
        )
    )
