"""The Fargate case: the chat's tasks in an ECS service behind the load balancer.

An ECS cluster, a CloudWatch Logs group, a task execution role (pull the image, write
the logs, read the service's SSM parameters when a task starts: nothing else), a task
definition (awsvpc, FARGATE, the spec's cpu/memory, port 3000, a container health check,
the URLs as `secrets` from SSM), the ECS service (desired = minSize at creation, the
target group's IP targets, a deployment circuit breaker) and Application Auto Scaling:
a scalable target between minSize and maxSize with a target-tracking policy on
ECSServiceAverageCPUUtilization (a percentage of the task's cpu units, so `cpuTarget`
translated for tasks of more than one vCPU: escala.api.chat_scaling) and/or on the
chat's connected clients per task.

No task role: the chat calls no AWS API, so its tasks get no AWS credentials at all.
"""

from escala.api.chat_scaling import ReplicaCpu
from escala.api.chat_service_spec import CHAT_PORT
from escala.cloud.aws.ecs_cluster import EcsCluster
from escala.cloud.aws.ecs_service import EcsService
from escala.cloud.aws.iam_role import ECS_TASKS, IamRole
from escala.cloud.aws.load_balancer import elb_name
from escala.cloud.aws.log_group import LogGroup
from escala.cloud.aws.scalable_target import ECS_CPU, ScalableTarget, ServiceScalingPolicy
from escala.cloud.aws.scaling_policy import TrackedMetric
from escala.cloud.aws.task_definition import TaskDefinition
from escala.model.chat_service.front import (
    METRICS_ENV,
    Front,
    add_app_group,
    log_group_name,
    log_writer_statement,
    parameter_arns,
    spec_env,
    trackings,
)
from escala.model.chat_service.parameters import parameter_env
from escala.model.context import ModelContext
from escala.model.iam_policy import ECR_READ, statement


def environment(service_name: str, from_spec: dict[str, str] | None = None) -> dict[str, str]:
    """JSON logs, and the chat's own metrics as EMF lines: the awslogs driver sends both
    to the log group, where CloudWatch extracts the metrics. Behind the ALB (one proxy),
    the per-IP flood limit reads the client's address from X-Forwarded-For. Then what
    the spec sets (`front.spec_env`)."""
    env = {
        "ESCALA_CHAT_LOG_FORMAT": "json",
        "ESCALA_CHAT_PROXY_HOPS": "1",
        METRICS_ENV: service_name,
    }
    return env | (from_spec or {})


def execution_policy(front: Front) -> dict[str, object]:
    names = list(parameter_env(front.service).values())
    return {
        "Version": "2012-10-17",
        "Statement": [
            statement(ECR_READ),
            log_writer_statement(front),
            statement(["ssm:GetParameters"], parameter_arns(front.service, names)),
        ],
    }


def build_fargate(ctx: ModelContext, front: Front, replica: ReplicaCpu) -> None:
    """`replica`: the task's vCPUs (escala.api.chat_scaling.fargate_cpu of `spec.cpu`)."""
    service, spec = front.service, front.service.spec
    name = service.name
    security_group = add_app_group(ctx, front, "tasks", "Chat tasks")
    ecs_name = elb_name("chat", name)
    cluster = ctx.add(EcsCluster(name=ecs_name, tags=ctx.tags(ecs_name)))
    logs = ctx.add(LogGroup(name=log_group_name(name), tags=ctx.tags(log_group_name(name))))
    role_name = f"task-execution.{name}"
    role = ctx.add(
        IamRole(
            name=role_name,
            tags=ctx.tags(role_name),
            policy=execution_policy(front),
            trusted_service=ECS_TASKS,
        )
    )
    definition = ctx.add(
        TaskDefinition(
            name=ecs_name,
            tags=ctx.tags(ecs_name),
            image=str(spec.image),
            cpu=int(spec.cpu or 0),
            memory=int(spec.memory or 0),
            port=CHAT_PORT,
            execution_role=role,
            log_group=logs,
            region=str(spec.region),
            secrets=parameter_env(service),
            environment=environment(name, spec_env(spec)),
        )
    )
    ecs_service = ctx.add(
        EcsService(
            name=ecs_name,
            tags=ctx.tags(ecs_name),
            cluster=cluster,
            task_definition=definition,
            subnets=front.subnets,
            security_groups=[security_group],
            target_group=front.target_group,
            listener=front.listener,
            port=CHAT_PORT,
            desired_count=int(spec.min_size or 0),
        )
    )
    target = ctx.add(
        ScalableTarget(
            name=ecs_name,
            tags=ctx.tags(ecs_name),
            service=ecs_service,
            min_capacity=int(spec.min_size or 0),
            max_capacity=int(spec.max_size or 0),
        )
    )
    for tracking in trackings(service, TrackedMetric(predefined=ECS_CPU), replica):
        ctx.add(ServiceScalingPolicy(target=target, **tracking.policy_fields(ctx)))
