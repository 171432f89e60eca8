"""The chat-service builders are pure: these tests look at the task graph, no AWS."""

import pytest

from escala.api.chat_service_spec import Platform, complete
from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.ecr_repository import EcrRepository
from escala.cloud.aws.iam_role import IamRole
from escala.cloud.aws.launch_template import LaunchTemplate
from escala.cloud.aws.tags import ownership_tag
from escala.cloud.aws.task_definition import TaskDefinition
from escala.errors import SpecInvalid
from escala.model.chat_service import build_chat_service
from escala.model.iam_policy import ECR_READ
from escala.ops.chat_service_lifecycle import ChatServiceOptions, chat_service_from_options
from tests.model.chat_service.specs import AMI, IMAGE, NAME, REDIS_PARAMETER, T3_SMALL, ZONES


def _service(platform: Platform, **options: object):  # type: ignore[no-untyped-def]
    return chat_service_from_options(
        ChatServiceOptions(
            name=NAME, platform=platform, zones=list(ZONES), image=IMAGE,
            redis_parameter=REDIS_PARAMETER, **options,  # type: ignore[arg-type]
        )
    )  # fmt: skip


@pytest.mark.parametrize("platform", [Platform.ec2, Platform.fargate])
def test_two_resources_of_the_same_name_are_refused_not_dropped(platform: Platform) -> None:
    service = _service(platform)
    # Past validation (which refuses this), a repeated CIDR would build two rules alike.
    twice = service.spec.model_copy(update={"http_access": ["10.0.0.0/8", "10.0.0.0/8"]})
    with pytest.raises(SpecInvalid) as caught:
        build_chat_service(complete(service.model_copy(update={"spec": twice})), T3_SMALL)
    assert f"SecurityGroupRule/alb-http-from-10.0.0.0/8.{NAME}: two resources" in str(caught.value)
    assert caught.value.exit_code == 2


def test_the_ec2_case_launches_from_a_template_of_the_group_s_name() -> None:
    tasks = build_chat_service(_service(Platform.ec2, ami=AMI), T3_SMALL)
    group = tasks[f"AutoscalingGroup/chat.{NAME}"]
    assert isinstance(group, AutoscalingGroup)
    assert group.launch_template is tasks[f"LaunchTemplate/chat.{NAME}"]
    assert isinstance(group.launch_template, LaunchTemplate)
    assert group.launch_template.tags == group.tags
    assert group.elb_health_check_grace == 300


@pytest.mark.parametrize("platform", [Platform.ec2, Platform.fargate])
def test_what_pulls_the_image_may_pull_from_ecr_and_the_repository_is_the_services(
    platform: Platform,
) -> None:
    """The instances' role (EC2) or the task execution role (Fargate: ECS pulls with it)
    is granted ECR's pull actions; the service owns its `escala/<name>` repository."""
    service = _service(platform, ami=AMI if platform is Platform.ec2 else None)
    tasks = build_chat_service(service, T3_SMALL)
    (role,) = [t for t in tasks.values() if isinstance(t, IamRole)]
    granted = {a for statement in role.policy["Statement"] for a in statement["Action"]}
    assert set(ECR_READ) <= granted
    if platform is Platform.fargate:
        (definition,) = [t for t in tasks.values() if isinstance(t, TaskDefinition)]
        assert definition.execution_role is role
    repository = tasks[f"ECRRepository/escala/{NAME}"]
    assert isinstance(repository, EcrRepository)
    assert repository.tags[ownership_tag(NAME)] == "owned"
