"""`spec.cpuTarget` is a percentage of what the one chat process can use (one core, or a
smaller task's whole share); the plan against the sandbox shows the policy's target on
AWS's metric, a percentage of every vCPU of the instance (its type's, from
DescribeInstanceTypes) or task, and says what it means."""

import json

import boto3
import pytest

from escala.cloud.aws.tags import CLUSTER_TAG
from tests.cli.run import escala
from tests.model.chat_service.specs import EC2_FLAGS, FARGATE_FLAGS, NAME


def _with(flags: tuple[str, ...], **values: str) -> list[str]:
    """`flags` with `--name value` for each of `values` (replaced or added)."""
    out = list(flags)
    for key, value in values.items():
        name = "--" + key.replace("_", "-")
        if name in out:
            out[out.index(name) + 1] = value
        else:
            out += [name, value]
    return out


def _planned_policy(capsys, state, flags) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    created = escala(capsys, "create", "chatservice", NAME, *flags, *state)
    assert created.code == 0, created.err
    planned = escala(capsys, "update", "chatservice", NAME, *state, "-o", "json")
    assert planned.code == 0, planned.err
    plan = json.loads(planned.out)
    (policy,) = [c for c in plan["changes"] if c["name"] == f"cpu-target.{NAME}"]
    (target,) = [f["new"] for f in policy["fields"] if f["field"] == "targetValue"]
    return target, plan["notes"]


@pytest.mark.parametrize(
    ("machine", "target", "says"),
    [
        ("t3.small", 25.0, "ASGAverageCPUUtilization 25 % on t3.small (2 vCPUs)"),
        ("t2.micro", 50.0, "ASGAverageCPUUtilization 50 % on t2.micro (1 vCPU)"),
        ("m5.xlarge", 12.5, "ASGAverageCPUUtilization 12.5 % on m5.xlarge (4 vCPUs)"),
    ],
)
def test_the_ec2_policy_tracks_the_target_over_the_instance_type_s_vcpus(
    aws, state, parameters, capsys, machine, target, says
):
    flags = _with(EC2_FLAGS, machine_type=machine, cpu_target="50")
    assert _planned_policy(capsys, state, flags) == (
        target, [f"cpuTarget 50 % of the chat's core -> {says}"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cpu", "memory", "target", "says"),
    [
        ("256", "512", 50.0, "of the chat's 0.25 vCPU -> ECSServiceAverageCPUUtilization 50 % "
         "on a 256-unit task (0.25 vCPU)"),
        ("1024", "2048", 50.0, "of the chat's core -> ECSServiceAverageCPUUtilization 50 % "
         "on a 1024-unit task (1 vCPU)"),
        ("2048", "4096", 25.0, "of the chat's core -> ECSServiceAverageCPUUtilization 25 % "
         "on a 2048-unit task (2 vCPUs)"),
    ],
)  # fmt: skip
def test_the_fargate_policy_tracks_the_target_over_the_task_s_vcpus(
    aws, state, parameters, capsys, cpu, memory, target, says
):
    flags = _with(FARGATE_FLAGS, cpu=cpu, memory=memory, cpu_target="50")
    assert _planned_policy(capsys, state, flags) == (target, [f"cpuTarget 50 % {says}"])


def test_an_instance_type_aws_does_not_know_is_refused_before_anything_is_stored(
    aws, state, parameters, capsys
):
    flags = _with(EC2_FLAGS, machine_type="t9.small")
    result = escala(capsys, "create", "chatservice", NAME, *flags, *state, "--yes")
    assert result.code == 2
    assert "spec.machineType: 't9.small' is not an EC2 instance type in eu-west-1" in (result.err)
    assert escala(capsys, "get", "chatservices", *state, "-o", "json").out.strip() == "[]"
    vpcs = boto3.client("ec2").describe_vpcs(
        Filters=[{"Name": f"tag:{CLUSTER_TAG}", "Values": [NAME]}]
    )["Vpcs"]
    assert vpcs == []
