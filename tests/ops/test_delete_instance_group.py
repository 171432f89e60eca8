"""`escala delete instancegroup`: drain first, then the ASG and launch template, then the
spec; refused, with nothing changed, where it would break the control plane."""

import boto3
import pytest

from escala.cli.main import main
from tests.ops.conftest import World
from tests.ops.world import CLUSTER, MASTERS, NODES, group_instances


def _run(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    return int(exited.value.code or 0)


def _asg_exists(group: str) -> bool:
    return bool(
        boto3.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[f"{group}.{CLUSTER}"]
        )["AutoScalingGroups"]
    )


def _template_exists(group: str) -> bool:
    found = boto3.client("ec2").describe_launch_templates(
        Filters=[{"Name": "launch-template-name", "Values": [f"{group}.{CLUSTER}"]}]
    )
    return bool(found["LaunchTemplates"])


def _state(world: World) -> tuple[list[str], bool, bool]:
    return (
        [g.name for g in world.store.list_instance_groups(CLUSTER)],
        _asg_exists(NODES),
        _template_exists(NODES),
    )


def test_the_plan_shows_what_would_go_and_changes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _state(world)
    assert _run("delete", "instancegroup", NODES, "--name", CLUSTER) == 0
    captured = capsys.readouterr()
    assert f"{NODES}.{CLUSTER}" in captured.out and "2" in captured.out
    assert "would be drained first" in captured.err and "Must specify --yes" in captured.err
    assert _state(world) == before
    assert world.fake.cordons == []


def test_a_node_group_is_drained_then_deleted_with_all_it_owns(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.add_replicaset("chat", "chat", 2, {"app": "chat"})
    world.kubelets.start()
    instances = group_instances(NODES)
    group_nodes = {
        n
        for n, o in world.fake.nodes.items()
        if o["spec"]["providerID"].split("/")[-1] in instances
    }
    assert len(group_nodes) == 2
    assert _run("delete", "instancegroup", NODES, "--name", CLUSTER, "--yes") == 0
    world.kubelets.stop()
    assert f"Deleted instancegroup/{NODES}" in capsys.readouterr().out
    # drained before the machines went: each node cordoned, the chat pods evicted
    assert len(world.fake.cordons) == len(instances)
    assert {e.namespace for e in world.fake.evictions} >= {"chat"}
    assert not group_nodes & set(world.fake.nodes)
    assert len(world.fake.nodes) == len(MASTERS)
    assert _state(world) == ([*MASTERS], False, False)
    states = boto3.client("ec2").describe_instances(InstanceIds=instances)["Reservations"]
    assert {i["State"]["Name"] for r in states for i in r["Instances"]} <= {
        "shutting-down",
        "terminated",
    }
    assert all(_asg_exists(m) for m in MASTERS)


def test_deleting_a_master_group_that_would_leave_an_even_quorum_is_refused(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _state(world)
    assert _run("delete", "instancegroup", MASTERS[0], "--name", CLUSTER, "--yes") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"instancegroup/{MASTERS[0]}: deleting it would leave 2 masters" in err
    assert "majority" in err
    assert _state(world) == before and _asg_exists(MASTERS[0])


def test_the_last_control_plane_group_cannot_go(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    for extra in MASTERS[1:]:
        world.store.delete_instance_group(CLUSTER, extra)
    assert _run("delete", "instancegroup", MASTERS[0], "--name", CLUSTER, "--yes") == 2
    assert "the last control-plane group" in capsys.readouterr().err
    assert _asg_exists(MASTERS[0])


def test_an_unknown_group_exits_2_naming_the_known_ones(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("delete", "instancegroup", "nope", "--name", CLUSTER) == 2
    assert "instancegroup/nope not found" in capsys.readouterr().err
