"""Bad chat-service input: one message listing every problem by field path, exit 2,
nothing written to the state store and nothing created in AWS."""

import boto3
import pytest

from escala.cloud.aws.tags import CLUSTER_TAG
from tests.cli.run import escala
from tests.model.chat_service.specs import EC2_FLAGS, FARGATE_FLAGS, IMAGE, NAME, REDIS_PARAMETER


def _nothing_created(capsys, state) -> None:  # type: ignore[no-untyped-def]
    assert escala(capsys, "get", "chatservices", *state, "-o", "json").out.strip() == "[]"
    vpcs = boto3.client("ec2").describe_vpcs(
        Filters=[{"Name": f"tag:{CLUSTER_TAG}", "Values": [NAME]}]
    )["Vpcs"]
    assert vpcs == []


def test_every_problem_is_named_by_its_field_and_nothing_is_created(aws, state, capsys):
    result = escala(
        capsys, "create", "chatservice", "Chat.Service", "--platform", "ec2",
        "--zones", "eu-west-1a", "--image", IMAGE, "--machine-type", "huge",
        "--redis-parameter", "redis://:pw@redis:6379", "--min", "3", "--max", "2",
        "--cpu-target", "150", "--cpu", "256", "--yes", *state,
    )  # fmt: skip
    assert result.code == 2
    for problem in (
        "metadata.name: 'Chat.Service' must be",
        "spec.subnets: an Application Load Balancer needs subnets in at least two zones",
        "spec.machineType: 'huge' is not an EC2 instance type",
        "spec.cpu: only for platform fargate",
        "spec.maxSize: 2 must be >= spec.minSize (3)",
        "spec.cpuTarget: 150.0 must be a CPU percentage from 1 to 100",
        "spec.redisParameter: must be the name of an SSM SecureString parameter",
    ):
        assert problem in result.err, (problem, result.err)
    assert "pw@redis" not in result.err, "a URL given by mistake is never echoed"
    _nothing_created(capsys, state)


def test_a_missing_redis_parameter_says_how_to_store_it(aws, state, capsys):
    flags = [f for f in EC2_FLAGS]
    at = flags.index("--redis-parameter")
    del flags[at : at + 2]
    result = escala(capsys, "create", "chatservice", NAME, *flags, *state)
    assert result.code == 2
    assert "spec.redisParameter: missing" in result.err
    assert "escala create parameter /escala/chat/redis" in result.err


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(None, "does not exist in eu-west-1"), ("String", "is a String; store the URL as a")],
)
def test_parameters_must_exist_as_securestrings_before_anything_is_built(
    aws, state, capsys, kind, expected
):
    ssm = boto3.client("ssm")
    if kind:
        ssm.put_parameter(Name=REDIS_PARAMETER, Value="redis://r:6379", Type=kind)
    ssm.put_parameter(Name="/escala/chat/database", Value="postgresql://d", Type="SecureString")
    result = escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, "--yes", *state)
    assert result.code == 2
    assert f"spec.redisParameter: SSM parameter {REDIS_PARAMETER} {expected}" in result.err
    assert "spec.databaseParameter" not in result.err
    _nothing_created(capsys, state)  # so the same command works once the parameter exists


def test_a_second_create_of_the_same_name_is_refused(aws, state, capsys):
    assert escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state).code == 0
    again = escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state)
    assert again.code == 2 and "already exists" in again.err


def test_fargate_sizes_and_ec2_only_fields_are_refused(aws, state, capsys):
    result = escala(
        capsys, "create", "chatservice", NAME, "--platform", "fargate",
        "--zones", "eu-west-1a,eu-west-1b", "--image", IMAGE, "--redis-parameter",
        REDIS_PARAMETER, "--cpu", "256", "--memory", "4096", "--machine-type", "t3.small",
        "--yes", *state,
    )  # fmt: skip
    assert result.code == 2
    assert "spec.memory: 4096 MiB does not go with cpu 256; use 512 to 2048" in result.err
    assert "spec.machineType: only for platform ec2; remove it" in result.err
    _nothing_created(capsys, state)


def test_the_platform_of_a_service_cannot_change(aws, state, capsys):
    assert escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state).code == 0
    result = escala(
        capsys, "set", "chatservice", NAME, "spec.platform=fargate", "spec.ami=",
        "spec.machineType=", "spec.rootVolumeSize=", *state,
    )  # fmt: skip
    assert result.code == 2
    assert "spec.platform: cannot change from 'ec2' to 'fargate'" in result.err
    listed = escala(capsys, "get", "chatservices", *state).out
    assert listed.split("\n")[1].split()[1] == "ec2", "nothing stored"


def _without(flags: tuple[str, ...], *names: str) -> list[str]:
    """`flags` less each named flag and its value."""
    out = list(flags)
    for name in names:
        at = out.index(name)
        del out[at : at + 2]
    return out


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            [*_without(EC2_FLAGS, "--cpu-target"), "--cpu-target", "0"],
            "spec.cpuTarget: 0.0 must be a CPU percentage from 1 to 100",
        ),
        (
            [*_without(FARGATE_FLAGS, "--cpu", "--memory"), "--cpu", "0"],
            "spec.cpu: 0 is not a Fargate task size",
        ),
    ],
)
def test_a_zero_is_refused_not_replaced_by_the_default(aws, state, capsys, flags, expected):
    result = escala(capsys, "create", "chatservice", NAME, *flags, *state)
    assert result.code == 2, result.out
    assert expected in result.err
    _nothing_created(capsys, state)
