"""`create instancegroup` and `delete instancegroup` end to end in the sandbox.

A cluster built by `create cluster --yes` gets a Spot node group over two instance types;
`update cluster --yes` builds its mixed-instances ASG, and a second run has nothing to do.
Bad input exits 2 naming the field and leaves the state store as it was.
"""

import json
from pathlib import Path

import boto3
import pytest

from tests.cli.run import escala, public_key

NAME = "groups.k8s.local"
ZONES = "eu-west-1a,eu-west-1b,eu-west-1c"


def _files(state: Path) -> dict[str, bytes]:
    return {str(p.relative_to(state)): p.read_bytes() for p in state.rglob("*") if p.is_file()}


@pytest.fixture
def cluster(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A built cluster; returns the --name/--state flags."""
    (tmp_path / "admin.pub").write_text(public_key())
    named = ["--name", NAME, "--state", f"file://{tmp_path}/state"]
    built = escala(capsys, "create", "cluster", *named, "--zones", ZONES, "--node-count", "1",
                   "--ssh-public-key", str(tmp_path / "admin.pub"), "--yes")  # fmt: skip
    assert built.code == 0, built.err
    return named


def test_a_spot_group_over_two_types_is_written_built_and_stable(
    cluster: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["spot", *cluster, "--zones", "eu-west-1a,eu-west-1b", "--machine-type", "m5.large",
             "--mixed-instances", "m5.large,m5a.large", "--spot", "--min-size", "2",
             "--max-size", "4", "--node-labels", "lifecycle=spot",
             "--taints", "spot=true:PreferNoSchedule"]  # fmt: skip
    shown = escala(capsys, "create", "instancegroup", *flags, "-o", "json")
    assert shown.code == 0, shown.err
    assert "Must specify --yes" in shown.err
    assert "spot" not in escala(capsys, "get", "instancegroups", *cluster).out
    policy = json.loads(shown.out)["spec"]["mixedInstancesPolicy"]
    assert policy == {
        "instances": ["m5.large", "m5a.large"],
        "onDemandBase": 0,
        "onDemandAboveBase": 0,
        "spotAllocationStrategy": "price-capacity-optimized",
    }

    created = escala(capsys, "create", "instancegroup", *flags, "--yes")
    assert created.code == 0, created.err
    assert "spot" in escala(capsys, "get", "instancegroups", *cluster).out
    plan = escala(capsys, "update", "cluster", *cluster, "--yes")
    assert plan.code == 0, plan.err
    assert f"AutoscalingGroup/spot.{NAME}" in plan.out
    asg = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"spot.{NAME}"]
    )["AutoScalingGroups"][0]
    mixed = asg["MixedInstancesPolicy"]
    assert [o["InstanceType"] for o in mixed["LaunchTemplate"]["Overrides"]] == [
        "m5.large",
        "m5a.large",
    ]
    assert mixed["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"] == 0
    assert len(asg["Instances"]) == 2
    again = escala(capsys, "update", "cluster", *cluster)
    assert again.code == 0 and "No changes need to be applied" in again.out, again.out
    assert "NeedsUpdate" not in escala(capsys, "rolling-update", "cluster", *cluster,
                                       "--cloudonly").out  # fmt: skip

    gone = escala(capsys, "delete", "instancegroup", "spot", *cluster, "--cloudonly", "--yes")
    assert gone.code == 0, gone.err
    assert not boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"spot.{NAME}"]
    )["AutoScalingGroups"]
    assert "spot" not in escala(capsys, "get", "instancegroups", *cluster).out
    assert "No changes need to be applied" in escala(capsys, "update", "cluster", *cluster).out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--mixed-instances", "m5.large,m5.large"],
         "spec.mixedInstancesPolicy.instances: m5.large is listed 2 times; list it once"),
        (["--mixed-instances", "m5.large,m5.huge"],
         "spec.mixedInstancesPolicy.instances[1]: 'm5.huge' is not an EC2 instance type"),
        (["--mixed-instances", "m5.large,t9.large"],
         "spec.mixedInstancesPolicy.instances[1]: t9.large is not offered in eu-west-1"),
        (["--role", "Master", "--zones", "eu-west-1a", "--spot"],
         "only node groups may mix instance types or use Spot"),
        (["--taints", "spot:Sometimes"],
         "spec.taints[0]: 'spot:Sometimes' is not key[=value]:Effect"),
        (["--min-size", "3", "--max-size", "1"], "spec.maxSize: 1 must be >= minSize (3)"),
        (["--zones", "eu-west-1z"], "spec.subnets[0]: subnet 'eu-west-1z' does not exist"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_naming_the_field_and_writes_nothing(
    cluster: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    message: str,
) -> None:
    before = _files(tmp_path / "state")
    result = escala(capsys, "create", "instancegroup", "extra", *cluster, *flags, "--yes")
    assert result.code == 2, result.err
    assert message in " ".join(result.err.split())
    assert _files(tmp_path / "state") == before


def test_an_existing_group_is_not_created_twice(
    cluster: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = escala(capsys, "create", "instancegroup", "nodes", *cluster, "--yes")
    assert result.code == 2 and "instancegroup/nodes already exists" in result.err
