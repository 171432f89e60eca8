"""The Kubernetes case's spec shares the image and scaling rules, and the CPU default, of
the EC2/Fargate ChatService: one rule and one default for every scaling case."""

import pytest

from escala.api.chat_deployment import ChatDeployment, problems
from escala.api.chat_service_spec import ChatService, Platform, complete
from escala.api.chat_service_spec_validation import problems as service_problems
from tests.api.test_chat_service_spec import _service

NAME = "proyecto.k8s.local"


def test_every_scaling_case_targets_the_same_cpu_by_default() -> None:
    on_kubernetes = ChatDeployment.for_cluster(NAME, "1.31.2", "eu-west-1").spec.cpu_target
    for platform in Platform:
        assert complete(_service(platform)).spec.cpu_target == on_kubernetes == 50


@pytest.mark.parametrize(
    ("value", "deployment_says", "service_says"),
    [
        (
            {"image": "Escala Chat:latest"},
            "--image: 'Escala Chat:latest' is not a container image reference",
            "spec.image: 'Escala Chat:latest' is not a container image reference",
        ),
        (
            {"cpu_target": 101},
            "--cpu-target: 101 must be a CPU percentage from 1 to 100",
            "spec.cpuTarget: 101.0 must be a CPU percentage from 1 to 100",
        ),
    ],
)
def test_both_kinds_refuse_the_same_values_in_the_same_words(
    value: dict[str, object], deployment_says: str, service_says: str
) -> None:
    deployment = ChatDeployment.for_cluster(NAME, "1.31.2", "eu-west-1", **value)
    data = _service(Platform.ec2).model_dump()
    service = ChatService.model_validate({**data, "spec": {**data["spec"], **value}})
    assert any(p.startswith(deployment_says) for p in problems(deployment))
    assert any(p.startswith(service_says) for p in service_problems(complete(service)))
