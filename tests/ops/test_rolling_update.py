"""`escala rolling-update cluster` against moto (ASGs) and the fake (drain, validation).

The Kubelets thread plays the machines: replacements register as nodes, terminated
instances' nodes go away. The chat workload runs three replicas under a PDB that keeps
two available, and replacements take a moment to become Ready, so drains meet 429s.
"""

import json
from collections.abc import Callable, Iterator

import boto3
import pytest

from escala.cli.main import main
from escala.errors import UsageError
from escala.ops.rolling_update import (
    RollingUpdateFailed,
    RollingUpdateOptions,
    RollingUpdateReport,
    plan_rolling_update,
    rolling_update,
)
from tests.ops.conftest import World
from tests.ops.world import CLUSTER, MASTERS, NODES, change_machine_type, group_instances


@pytest.fixture
def busy(world: World) -> Iterator[World]:
    """The world with a PDB-guarded workload and the kubelets running."""
    world.fake.pod_ready_delay = 0.3
    world.fake.add_replicaset("chat", "chat", 3, {"app": "chat"})
    world.fake.add_pdb("chat", "chat", {"app": "chat"}, min_available=2)
    world.kubelets.start()
    yield world
    world.kubelets.stop()


def _options(**overrides: object) -> RollingUpdateOptions:
    values: dict[str, object] = {
        "cluster_name": CLUSTER,
        "validation_timeout": 60.0,
        "drain_timeout": 30.0,
        "poll_interval": 0.1,
    }
    values.update(overrides)
    return RollingUpdateOptions(**values)  # type: ignore[arg-type]


def _update(world: World, **overrides: object) -> RollingUpdateReport:
    groups = world.store.list_instance_groups(CLUSTER)
    return rolling_update(_options(**overrides), groups, world.aws, world.kube())


def _ctrl_c_at(prefix: str) -> Callable[[str], None]:
    """A progress log that interrupts the run at the first message starting with prefix."""

    def log(message: str) -> None:
        if message.startswith(prefix):
            raise KeyboardInterrupt

    return log


def _instance_types(ids: list[str]) -> set[str]:
    found = boto3.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return {i["InstanceType"] for r in found for i in r["Instances"]}


def _all_instances() -> dict[str, list[str]]:
    return {g: group_instances(g) for g in [*MASTERS, NODES]}


def test_plan_lists_stale_instances_per_group(world: World) -> None:
    change_machine_type(NODES)
    groups = world.store.list_instance_groups(CLUSTER)
    plan = {s.name: s for s in plan_rolling_update(_options(), groups, world.aws, world.kube())}
    assert (plan[NODES].status, plan[NODES].need_update, plan[NODES].ready) == ("NeedsUpdate", 2, 0)
    assert (plan[NODES].min, plan[NODES].target, plan[NODES].max, plan[NODES].nodes) == (2, 2, 2, 2)
    assert all(plan[m].status == "Ready" and plan[m].need_update == 0 for m in MASTERS)


def test_replaces_every_stale_instance_and_no_other(busy: World) -> None:
    before = _all_instances()
    change_machine_type(MASTERS[1])
    change_machine_type(NODES)
    stale = before[MASTERS[1]] + before[NODES]

    report = _update(busy)

    after = _all_instances()
    assert sorted(report.replaced) == sorted(stale)
    # masters first, then nodes
    assert report.replaced[0] in before[MASTERS[1]]
    assert set(report.replaced[1:]) == set(before[NODES])
    # untouched groups keep their instances; replaced ones run the new machine type
    for group in (MASTERS[0], MASTERS[2]):
        assert after[group] == before[group]
    assert not set(after[NODES]) & set(before[NODES])
    assert _instance_types(after[NODES] + after[MASTERS[1]]) == {"t3.large"}
    # one node at a time: no node was cordoned while another still was
    cordoned = busy.fake.cordons
    assert len(cordoned) == 3 and all(others == 0 for _, others in cordoned)
    # every chat pod left through the Eviction API, and the budget was never broken
    chat_evictions = [e for e in busy.fake.evictions if e.namespace == "chat"]
    assert any(e.code == 429 for e in chat_evictions), "drain should have met the PDB"
    assert busy.fake.lowest_healthy[("chat", "chat")] >= 2
    assert len([p for (ns, _), p in busy.fake.pods.items() if ns == "chat"]) == 3


def test_nothing_to_do_when_nothing_is_stale(busy: World) -> None:
    before = _all_instances()
    assert _update(busy).replaced == []
    assert _all_instances() == before


def _interrupted_node_update(world: World, at: str, **overrides: object) -> None:
    """Make the nodes stale and start a rolling update that Ctrl-C stops at `at`."""
    change_machine_type(NODES)
    groups = world.store.list_instance_groups(CLUSTER)
    with pytest.raises(KeyboardInterrupt):
        rolling_update(_options(**overrides), groups, world.aws, world.kube(), log=_ctrl_c_at(at))


def test_interrupted_update_resumes_where_it_stopped(busy: World) -> None:
    before = _all_instances()
    _interrupted_node_update(busy, "terminated instance")

    groups = busy.store.list_instance_groups(CLUSTER)
    plan = {s.name: s for s in plan_rolling_update(_options(), groups, busy.aws, busy.kube())}
    assert plan[NODES].need_update == 1  # the first one was replaced before the Ctrl-C

    report = _update(busy)

    assert len(report.replaced) == 1
    assert report.replaced[0] in before[NODES]
    assert not set(group_instances(NODES)) & set(before[NODES])
    assert all(group_instances(m) == before[m] for m in MASTERS)


def test_force_replaces_everything_in_the_chosen_group(busy: World) -> None:
    before = _all_instances()
    report = _update(busy, force=True, instance_groups=[MASTERS[0]])
    assert report.replaced == before[MASTERS[0]]
    assert group_instances(MASTERS[0]) != before[MASTERS[0]]
    assert group_instances(NODES) == before[NODES]


def test_max_surge_launches_replacements_before_draining(busy: World) -> None:
    before = _all_instances()
    change_machine_type(NODES)
    report = _update(busy, max_surge=2)
    assert sorted(report.replaced) == before[NODES]
    assert not set(group_instances(NODES)) & set(before[NODES])
    # both drained nodes found room on the surged replacements
    assert busy.fake.lowest_healthy[("chat", "chat")] >= 2
    states = boto3.client("ec2").describe_instances(InstanceIds=before[NODES])["Reservations"]
    assert {i["State"]["Name"] for r in states for i in r["Instances"]} == {"terminated"}


def test_cloudonly_skips_kubernetes(world: World) -> None:
    before = _all_instances()
    change_machine_type(NODES)
    world.api.stop()  # the API is down: --cloudonly is how kops users get out of that
    groups = world.store.list_instance_groups(CLUSTER)
    report = rolling_update(_options(cloud_only=True), groups, world.aws, None)
    assert sorted(report.replaced) == before[NODES]
    assert world.fake.evictions == []


def test_unknown_instance_group_is_a_usage_error(world: World) -> None:
    with pytest.raises(UsageError, match="--instance-group nope"):
        _update(world, instance_groups=["nope"])


def test_cli_dry_run_prints_kops_table_and_changes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _all_instances()
    change_machine_type(NODES)
    with pytest.raises(SystemExit) as exited:
        main(["rolling-update", "cluster", "--name", CLUSTER])
    assert exited.value.code == 0
    captured = capsys.readouterr()
    assert "NEEDUPDATE" in captured.out and "NeedsUpdate" in captured.out
    assert "Must specify --yes" in captured.err
    assert _all_instances() == before


def test_cli_refuses_a_bad_duration(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["rolling-update", "cluster", "--name", CLUSTER, "--drain-timeout", "5 minutes"])
    assert exited.value.code == 2
    assert "--drain-timeout" in capsys.readouterr().err


def test_an_invalid_cluster_is_not_touched(world: World) -> None:
    before = _all_instances()
    change_machine_type(NODES)
    world.fake.set_node_ready(sorted(world.fake.nodes)[0], False)
    with pytest.raises(RollingUpdateFailed, match=r"did not validate .* before the rolling update"):
        _update(world, validation_timeout=0.3)
    assert _all_instances() == before
    assert world.fake.cordons == []


def test_interrupted_surge_retires_the_detached_instances_on_resume(busy: World) -> None:
    before = _all_instances()
    _interrupted_node_update(busy, "detached", max_surge=2)
    # detached: out of the ASG (which launched replacements) but still running
    assert not set(group_instances(NODES)) & set(before[NODES])

    report = _update(busy, max_surge=2)

    assert sorted(report.replaced) == before[NODES]
    states = boto3.client("ec2").describe_instances(InstanceIds=before[NODES])["Reservations"]
    assert {i["State"]["Name"] for r in states for i in r["Instances"]} == {"terminated"}
    assert busy.fake.lowest_healthy[("chat", "chat")] >= 2


def test_cli_cloudonly_yes_replaces_without_the_api(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _all_instances()
    change_machine_type(NODES)
    world.api.stop()
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # the cluster spec's region is used
    argv = ["rolling-update", "cluster", "--name", CLUSTER, "--yes", "--cloudonly"]
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--interval", "0.1s", "-o", "json"])
    assert exited.value.code == 0
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # for the checks below
    plan = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert plan[NODES]["need_update"] == 2 and plan[NODES]["nodes"] is None
    assert not set(group_instances(NODES)) & set(before[NODES])
    assert all(group_instances(m) == before[m] for m in MASTERS)


def test_cli_unreachable_api_points_at_cloudonly(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    change_machine_type(NODES)
    world.api.stop()
    with pytest.raises(SystemExit) as exited:
        main(["rolling-update", "cluster", "--name", CLUSTER])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "cannot reach the Kubernetes API server" in err and "--cloudonly" in err
    assert "Traceback" not in err
