"""The seed's "update the instance groups, then roll", offline: `escala sandbox` only.

A cluster built by `create cluster --yes`, its node machine type changed with `set
instancegroup` and applied with `update cluster --yes` (a new launch-template version with
user-data), then `rolling-update cluster --cloudonly --yes`. Before moto was patched
(escala.cli.sandbox_moto) the first replacement's launch answered HTTP 500.
"""

from pathlib import Path

import boto3
import pytest

from tests.cli.run import escala, public_key

NAME = "roll.k8s.local"
ZONES = "eu-west-1a,eu-west-1b,eu-west-1c"


def _asg_instances(group: str) -> dict[str, str]:
    """instance ID -> machine type of the group's ASG instances."""
    asg = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"{group}.{NAME}"]
    )["AutoScalingGroups"][0]
    return {i["InstanceId"]: i["InstanceType"] for i in asg["Instances"]}


def _masters() -> dict[str, dict[str, str]]:
    return {z: _asg_instances(f"master-{z}") for z in ZONES.split(",")}


def test_a_new_node_machine_type_rolls_out_one_instance_at_a_time(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "admin.pub").write_text(public_key())
    named = ["--name", NAME, "--state", f"file://{tmp_path}/state"]

    def ok(*args: str) -> str:
        result = escala(capsys, *args)
        assert result.code == 0, (args, result.err)
        return result.out + result.err

    ok("create", "cluster", *named, "--zones", ZONES, "--node-count", "3",
       "--ssh-public-key", str(tmp_path / "admin.pub"), "--yes")  # fmt: skip
    before = _asg_instances("nodes")
    masters = _masters()
    assert len(before) == 3 and set(before.values()) == {"t3.medium"}

    ok("set", "instancegroup", "nodes", "spec.machineType=t3.large", *named)
    ok("update", "cluster", *named, "--yes")
    plan = ok("rolling-update", "cluster", *named, "--cloudonly")
    rows = {line.split()[0]: line.split() for line in plan.splitlines() if line.strip()}
    assert rows["nodes"][1:3] == ["NeedsUpdate", "3"]
    assert all(rows[f"master-{z}"][1] == "Ready" for z in ZONES.split(","))

    log = ok("rolling-update", "cluster", *named, "--cloudonly", "--yes", "--interval", "0.1s")

    after = _asg_instances("nodes")
    assert len(after) == 3 and not set(after) & set(before)
    assert set(after.values()) == {"t3.large"}
    assert _masters() == masters  # nothing else was touched
    # one at a time: each instance is terminated (and its replacement awaited) before
    # the next one is touched
    steps = [
        (words[0], words[2].rstrip(";"))
        for words in (line.split() for line in log.splitlines())
        if words[:1] in (["replacing"], ["terminated"]) and words[1] == "instance"
    ]
    replaced = [instance for action, instance in steps if action == "replacing"]
    assert sorted(replaced) == sorted(before)
    assert steps == [(a, i) for i in replaced for a in ("replacing", "terminated")]
    assert "3 instance(s) replaced" in log
    assert "No rolling-update required" in ok("rolling-update", "cluster", *named, "--cloudonly")
