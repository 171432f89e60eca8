"""The EC2 case: the chat's instances in an Auto Scaling Group behind the load balancer.

A launch template (the AMI, IMDSv2 only, an encrypted gp3 root disk, the Docker user-data
of escala.model.chat_service.user_data) and an instance role that may read only the service's SSM
parameters and pull from ECR; the group spreads over every zone's subnet, registers
its instances in the target group and replaces those the load balancer finds unhealthy;
a target-tracking policy keeps the group's average CPU at `spec.cpuTarget`.
"""

from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.iam_role import IamRole
from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.launch_template import LaunchTemplate
from escala.cloud.aws.scaling_policy import ScalingPolicy
from escala.model.chat_service.front import Front, parameter_arns, statement
from escala.model.chat_service.parameters import parameter_env
from escala.model.chat_service.user_data import render_chat_user_data
from escala.model.cluster.iam_roles import ECR_READ
from escala.reconcile.task import Task

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


def build_ec2(front: Front) -> list[Task]:
    service, spec = front.service, front.service.spec
    name = service.name
    security_group, rule = front.app_group("instances", "Chat instances")
    role_name = f"instances.{name}"
    role = IamRole(name=role_name, tags=front.tags(role_name), policy=instance_policy(front))
    profile = InstanceProfile(name=role_name, tags=front.tags(role_name), role=role)
    group_name = f"chat.{name}"
    template = LaunchTemplate(
        name=group_name,
        tags=front.tags(group_name),
        image=str(spec.ami),
        machine_type=str(spec.machine_type),
        root_volume_size=int(spec.root_volume_size or 0),
        root_volume_type="gp3",
        instance_profile=profile,
        security_groups=[security_group],
        key_pair=None,
        user_data=render_chat_user_data(service),
    )
    group = AutoscalingGroup(
        name=group_name,
        tags=front.tags(group_name),
        launch_template=template,
        min_size=int(spec.min_size or 0),
        max_size=int(spec.max_size or 0),
        subnets=front.subnets,
        target_groups=[front.target_group],
        elb_health_check_grace=HEALTH_CHECK_GRACE,
    )
    policy_name = f"cpu-target.{name}"
    policy = ScalingPolicy(
        name=policy_name,
        tags=front.tags(policy_name),
        group=group,
        cpu_target=float(spec.cpu_target or 0),
    )
    return [*front.tasks, security_group, rule, role, profile, template, group, policy]
