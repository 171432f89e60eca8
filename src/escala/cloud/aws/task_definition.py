"""The Fargate task definition of a chat service: one container, the chat's image.

A change registers a new *revision* of the family (task definitions are immutable), and
the ECS service is pointed at it, as the ASG is at a launch-template version. Secrets
reach the container through `secrets[].valueFrom` (SSM parameter names, read by the
execution role when a task starts), never as plain environment values.
"""

import dataclasses
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws.ecs_cluster import ecs_tag_dict, ecs_tags
from escala.cloud.aws.iam_role import IamRole
from escala.cloud.aws.log_group import LogGroup
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import is_owned
from escala.reconcile.retry import error_code
from escala.reconcile.task import FieldChange, Fields, Owned, Task

CONTAINER = "chat"
HEALTH_CHECK = [
    "CMD",
    "python",
    "-c",
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2)",
]


@dataclasses.dataclass(eq=False, kw_only=True)
class TaskDefinition(Task):
    """`name` is the family."""

    kind = "TaskDefinition"
    iam_actions = (
        "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions",
        "ecs:RegisterTaskDefinition",
        "ecs:DeregisterTaskDefinition",
        "ecs:TagResource",
        "iam:PassRole",
    )

    image: str
    cpu: int
    memory: int
    port: int
    execution_role: IamRole
    log_group: LogGroup
    region: str
    secrets: dict[str, str]  # environment variable -> SSM parameter name
    environment: dict[str, str] = dataclasses.field(default_factory=dict)
    stop_timeout: int = 30
    revision: int | None = dataclasses.field(default=None, init=False)

    def desired(self) -> Fields:
        return {
            "image": self.image,
            "cpu": str(self.cpu),
            "memory": str(self.memory),
            "port": self.port,
            "executionRole": self.execution_role.name,
            "logGroup": self.log_group.name,
            "secrets": sorted(f"{k} from {v}" for k, v in self.secrets.items()),
            "environment": sorted(f"{k}={v}" for k, v in self.environment.items()),
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        try:
            definition = cloud.client("ecs").describe_task_definition(taskDefinition=self.name)[
                "taskDefinition"
            ]
        except ClientError as e:
            if error_code(e) == "ClientException":  # "Unable to describe task definition"
                return None
            raise
        if definition.get("status") != "ACTIVE":
            return None
        self.id = definition["taskDefinitionArn"]
        self.revision = int(definition["revision"])
        container = definition["containerDefinitions"][0]
        role = str(definition.get("executionRoleArn", "")).split("/")[-1]
        log = container.get("logConfiguration", {}).get("options", {})
        ports = container.get("portMappings", [{}])
        secrets = container.get("secrets", [])
        environment = container.get("environment", [])
        return {
            "image": container.get("image"),
            "cpu": definition.get("cpu"),
            "memory": definition.get("memory"),
            "port": ports[0].get("containerPort") if ports else None,
            "executionRole": role,
            "logGroup": log.get("awslogs-group"),
            "secrets": sorted(f"{s['name']} from {s['valueFrom']}" for s in secrets),
            "environment": sorted(f"{e['name']}={e['value']}" for e in environment),
        }

    def expect(self, creating: bool) -> None:
        self.revision = 1 if creating or self.revision is None else self.revision + 1

    def _container(self) -> dict[str, Any]:
        return {
            "name": CONTAINER,
            "image": self.image,
            "essential": True,
            "portMappings": [{"containerPort": self.port, "protocol": "tcp"}],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(self.secrets.items())],
            "environment": [{"name": k, "value": v} for k, v in sorted(self.environment.items())],
            "healthCheck": {
                "command": HEALTH_CHECK,
                "interval": 15,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 30,
            },
            "stopTimeout": self.stop_timeout,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.log_group.name,
                    "awslogs-region": self.region,
                    "awslogs-stream-prefix": CONTAINER,
                },
            },
        }

    def create(self, cloud: ClientFactory) -> None:
        definition = cloud.client("ecs").register_task_definition(
            family=self.name,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu=str(self.cpu),
            memory=str(self.memory),
            executionRoleArn=str(self.execution_role.id),
            containerDefinitions=[self._container()],
            runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
            tags=ecs_tags(self.tags),
        )["taskDefinition"]
        self.id = definition["taskDefinitionArn"]
        self.revision = int(definition["revision"])

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self.create(cloud)  # a new revision of the family

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ecs").deregister_task_definition(taskDefinition=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        """The ACTIVE revisions tagged as the owner's (an INACTIVE revision runs nothing
        and cannot be used again; AWS keeps it listed for a while)."""
        ecs = cloud.client("ecs")
        found = []
        pages = ecs.get_paginator("list_task_definitions").paginate(status="ACTIVE")
        for arn in (a for page in pages for a in page["taskDefinitionArns"]):
            answer = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
            if is_owned(ecs_tag_dict(answer.get("tags")), cluster_name):
                found.append(Owned(cls.kind, arn.split("/")[-1], arn, cls.delete_id))
        return found
