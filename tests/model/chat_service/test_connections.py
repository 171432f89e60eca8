"""Scaling on connections: `spec.scaleOn` and `spec.connectionsTarget` (defaults, rules),
and the target-tracking policies both platforms get for them in AWS, on the chat's own
metric (customized metric specification)."""

import boto3
import pytest

from escala.api.chat_service_spec import (
    ChatService,
    ChatServiceSpec,
    Platform,
    ScaleSignal,
    complete,
)
from escala.api.chat_service_spec_validation import problems
from escala.api.types import ObjectMeta, Subnet
from tests.cli.run import escala
from tests.model.chat_service.specs import EC2_FLAGS, FARGATE_FLAGS, NAME

CONNECTIONS_METRIC = {
    "Namespace": "Escala/Chat",
    "MetricName": "ConnectedClients",
    "Dimensions": [{"Name": "Service", "Value": NAME}],
    "Statistic": "Average",
}


def _service(**spec: object) -> ChatService:
    zones = ("eu-west-1a", "eu-west-1b")
    return ChatService(
        metadata=ObjectMeta(name=NAME),
        spec=ChatServiceSpec(
            platform=Platform.fargate,
            subnets=[Subnet(name=z, zone=z) for z in zones],
            image="escala:0.1.0",
            redis_parameter="/escala/chat/redis",
            **spec,  # type: ignore[arg-type]
        ),
    )


def test_cpu_is_the_default_and_connections_get_a_default_target() -> None:
    plain = complete(_service()).spec
    assert (plain.scale_on, plain.connections_target) == ([ScaleSignal.cpu], None)
    both = complete(_service(scale_on=["cpu", "connections"])).spec
    assert (both.scale_on, both.connections_target) == (
        [ScaleSignal.cpu, ScaleSignal.connections], 500,
    )  # fmt: skip
    kept = complete(_service(scale_on=["connections"], connections_target=2000)).spec
    assert (kept.scale_on, kept.connections_target) == ([ScaleSignal.connections], 2000)
    assert problems(complete(_service(scale_on=["connections"]))) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"scale_on": ["connections"], "connections_target": 0},
         "spec.connectionsTarget: 0 must be the connected clients per replica to keep"),
        ({"scale_on": ["connections"], "connections_target": 10**6},
         "from 1 to 50000"),
        ({"connections_target": 300},
         "spec.connectionsTarget: set, but spec.scaleOn does not include connections"),
        ({"scale_on": ["cpu", "cpu"]}, "spec.scaleOn: cpu is listed 2 times"),
    ],
)  # fmt: skip
def test_bad_scaling_fields_are_named(spec: dict[str, object], expected: str) -> None:
    found = problems(complete(_service(**spec)))
    assert any(expected in p for p in found), found


def test_an_unknown_signal_is_refused_with_the_choices(aws, state, capsys):
    out = escala(capsys, "create", "chatservice", NAME, *FARGATE_FLAGS, "--scale-on",
                 "cpu,memory", *state)  # fmt: skip
    assert out.code == 2
    assert "--scale-on: 'memory' is not one of cpu, connections" in out.err
    listed = escala(capsys, "get", "chatservices", *state, "-o", "json")
    assert listed.out.strip() == "[]", "nothing stored"

    assert escala(capsys, "create", "chatservice", NAME, *FARGATE_FLAGS, *state).code == 0
    changed = escala(capsys, "set", "chatservice", NAME, "spec.scaleOn=[gpu]", *state)
    assert changed.code == 2 and "spec.scaleOn" in changed.err


def test_ec2_tracks_connections_per_instance(aws, state, parameters, capsys):
    created = escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, "--scale-on",
                     "connections", "--connections-target", "800", *state, "--yes")  # fmt: skip
    assert created.code == 0, created.err
    (policy,) = boto3.client("autoscaling").describe_policies(AutoScalingGroupName=f"chat.{NAME}")[
        "ScalingPolicies"
    ]
    assert policy["PolicyName"] == f"connections-target.{NAME}"
    config = policy["TargetTrackingConfiguration"]
    assert config["CustomizedMetricSpecification"] == CONNECTIONS_METRIC
    assert config["TargetValue"] == 800.0
    again = escala(capsys, "update", "chatservice", NAME, *state)
    assert again.out.strip() == "No changes need to be applied"


def test_fargate_tracks_cpu_and_connections_and_goes_back(aws, state, parameters, capsys):
    created = escala(capsys, "create", "chatservice", NAME, *FARGATE_FLAGS, "--scale-on",
                     "cpu,connections", *state, "--yes")  # fmt: skip
    assert created.code == 0, created.err
    scaling = boto3.client("application-autoscaling")

    def policies() -> dict[str, dict]:  # type: ignore[type-arg]
        found = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
        return {p["PolicyName"]: p["TargetTrackingScalingPolicyConfiguration"] for p in found}

    both = policies()
    assert set(both) == {f"cpu-target.{NAME}", f"connections-target.{NAME}"}
    assert both[f"connections-target.{NAME}"]["CustomizedMetricSpecification"] == (
        CONNECTIONS_METRIC
    )
    assert both[f"connections-target.{NAME}"]["TargetValue"] == 500.0
    again = escala(capsys, "update", "chatservice", NAME, *state)
    assert again.out.strip() == "No changes need to be applied"
    # back to CPU only: the connections policy is no longer wanted, and goes
    changed = escala(capsys, "set", "chatservice", NAME, "spec.scaleOn=[cpu]",
                     "spec.connectionsTarget=null", *state)  # fmt: skip
    assert changed.code == 0, changed.err
    plan = escala(capsys, "update", "chatservice", NAME, *state, "--yes")
    assert f"ServiceScalingPolicy/connections-target.{NAME}" in plan.out
    assert set(policies()) == {f"cpu-target.{NAME}"}
    alarms = boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert len(alarms) == 2, "only the CPU policy's high and low alarms are left"
