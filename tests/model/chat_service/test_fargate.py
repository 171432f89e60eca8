"""The Fargate case against a moto server: create -> apply -> plan again (no changes) ->
ownership tags -> the task definition's secrets come from SSM -> Application Auto
Scaling with the spec's numbers -> delete -> nothing tagged left."""

import json

import boto3

from escala.cloud.aws.registry import CHAT_SERVICE_DELETABLE, find_owned
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import CLUSTER_TAG, ownership_tag
from tests.aws_calls import record_calls
from tests.cli.run import escala
from tests.model.chat_service.specs import (
    DATABASE_PARAMETER,
    FARGATE_FLAGS,
    IMAGE,
    NAME,
    REDIS_PARAMETER,
)

OWNED = {CLUSTER_TAG: NAME, ownership_tag(NAME): "owned"}
ECS_NAME = f"chat-{NAME}"


def _ecs_owned(tags: list[dict[str, str]]) -> bool:
    return OWNED.items() <= {t["key"]: t["value"] for t in tags}.items()


def _owned_kinds() -> set[str]:
    return {o.kind for o in find_owned(ClientFactory(), NAME, CHAT_SERVICE_DELETABLE)}


def test_fargate_chat_service_lifecycle(aws, state, parameters, capsys, monkeypatch):
    called = record_calls(monkeypatch)
    created = escala(capsys, "create", "chatservice", NAME, *FARGATE_FLAGS, *state, "--yes",
                     "-o", "json")  # fmt: skip
    assert created.code == 0, created.err
    plan = json.loads(created.out)
    assert plan["applied"] and {c["action"] for c in plan["changes"]} == {"create"}
    again = escala(capsys, "update", "chatservice", NAME, *state)
    assert again.code == 0 and again.out.strip() == "No changes need to be applied"

    ecs = boto3.client("ecs")
    (cluster,) = ecs.describe_clusters(clusters=[ECS_NAME], include=["TAGS"])["clusters"]
    assert _ecs_owned(cluster["tags"])

    (service,) = ecs.describe_services(cluster=ECS_NAME, services=[ECS_NAME], include=["TAGS"])[
        "services"
    ]
    assert _ecs_owned(service["tags"])
    assert (service["launchType"], service["desiredCount"]) == ("FARGATE", 2)
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert len(network["subnets"]) == 2 and network["assignPublicIp"] == "ENABLED"
    # (moto's ECS keeps no deploymentConfiguration: what escala asked for is checked)
    (create,) = [json.loads(c.params["body"]) for c in called if c.operation == "CreateService"]
    breaker = create["deploymentConfiguration"]["deploymentCircuitBreaker"]
    assert breaker == {"enable": True, "rollback": True}
    (balancer,) = service["loadBalancers"]
    (target,) = boto3.client("elbv2").describe_target_groups(
        TargetGroupArns=[balancer["targetGroupArn"]]
    )["TargetGroups"]
    assert (balancer["containerName"], balancer["containerPort"]) == ("chat", 3000)
    assert (target["TargetType"], target["Port"], target["HealthCheckPath"]) == (
        "ip", 3000, "/readyz",
    )  # fmt: skip

    answer = ecs.describe_task_definition(
        taskDefinition=service["taskDefinition"], include=["TAGS"]
    )
    definition = answer["taskDefinition"]
    assert _ecs_owned(answer["tags"])
    assert (definition["networkMode"], definition["requiresCompatibilities"]) == (
        "awsvpc", ["FARGATE"],
    )  # fmt: skip
    assert (definition["cpu"], definition["memory"]) == ("512", "2048")
    (container,) = definition["containerDefinitions"]
    assert container["image"] == IMAGE
    assert container["portMappings"][0]["containerPort"] == 3000
    assert container["healthCheck"]["command"][0] == "CMD"
    assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
        "ESCALA_CHAT_REDIS": REDIS_PARAMETER,
        "ESCALA_CHAT_DATABASE": DATABASE_PARAMETER,
    }
    text = json.dumps(definition)
    assert not any(value in text for value in parameters.values()), "no secret in the task"
    log = container["logConfiguration"]
    assert (log["logDriver"], log["options"]["awslogs-group"]) == (
        "awslogs",
        f"/escala/chat/{NAME}",
    )
    assert definition["executionRoleArn"].endswith(f"/task-execution.{NAME}")
    assert "taskRoleArn" not in definition

    iam = boto3.client("iam")
    role = iam.get_role(RoleName=f"task-execution.{NAME}")["Role"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert trust == "ecs-tasks.amazonaws.com"
    policy = iam.get_role_policy(
        RoleName=f"task-execution.{NAME}", PolicyName=f"task-execution.{NAME}"
    )["PolicyDocument"]
    (ssm,) = [s for s in policy["Statement"] if s["Action"] == ["ssm:GetParameters"]]
    assert len(ssm["Resource"]) == 2

    scaling = boto3.client("application-autoscaling")
    resource = f"service/{ECS_NAME}/{ECS_NAME}"
    (scalable,) = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (scalable["ResourceId"], scalable["MinCapacity"], scalable["MaxCapacity"]) == (
        resource, 2, 8,
    )  # fmt: skip
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )
    assert config["TargetValue"] == 70.0

    assert {
        "ScalableTarget", "ECSService", "ECSCluster", "TaskDefinition", "LogGroup", "IAMRole",
        "LoadBalancer", "TargetGroup", "SecurityGroup", "Subnet", "VPC",
    } <= _owned_kinds()  # fmt: skip

    deleted = escala(capsys, "delete", "chatservice", NAME, *state, "--yes")
    assert deleted.code == 0, deleted.err
    assert _owned_kinds() == set()
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
