"""`escala validate cluster`: each kind of failure kops reports, and the CLI contract."""

import json
import threading

import boto3
import pytest

from escala.api import InstanceGroup, InstanceGroupSpec, ObjectMeta, Role
from escala.cli.main import main
from escala.ops.cloud_groups import CloudGroup, CloudInstance
from escala.ops.validate import ValidationResult, _check_nodes, validate_cluster
from tests.ops.conftest import World
from tests.ops.world import CLUSTER, MASTERS, NODES, group_instances


def _validate(world: World) -> ValidationResult:
    groups = world.store.list_instance_groups(CLUSTER)
    return validate_cluster(CLUSTER, groups, world.aws, world.kube())


def _messages(result: ValidationResult) -> list[tuple[str, str]]:
    return [(f.kind, f.message) for f in result.failures]


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0)


def test_a_healthy_cluster_is_ready(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    result = _validate(world)
    assert result.ready, result.failures
    assert [n.role for n in result.nodes].count("master") == 3
    assert _run(["validate", "cluster", "--name", CLUSTER]) == 0
    out = capsys.readouterr().out
    for heading in ("INSTANCE GROUPS", "NODE STATUS", f"Your cluster {CLUSTER} is ready"):
        assert heading in out
    assert "master-eu-west-1a" in out and "t3.medium" in out


def test_instance_group_short_of_instances(world: World) -> None:
    victim = group_instances(NODES)[0]
    boto3.client("autoscaling").set_instance_health(InstanceId=victim, HealthStatus="Unhealthy")
    assert ("InstanceGroup", "InstanceGroup 'nodes' did not have enough nodes 1 vs 2") in (
        _messages(_validate(world))
    )


def test_instance_group_without_asg(world: World) -> None:
    boto3.client("autoscaling").delete_auto_scaling_group(
        AutoScalingGroupName=f"{MASTERS[2]}.{CLUSTER}", ForceDelete=True
    )
    failures = _validate(world).failures
    assert any(f.kind == "InstanceGroup" and "no Auto Scaling Group" in f.message for f in failures)


def test_machine_that_has_not_joined(world: World) -> None:
    late = group_instances(NODES)[1]
    node = next(n for n, o in world.fake.nodes.items() if o["spec"]["providerID"].endswith(late))
    world.fake.remove_node(node)
    assert ("Machine", f"machine {late!r} has not yet joined cluster") in _messages(
        _validate(world)
    )


def test_node_not_ready(world: World) -> None:
    name = sorted(world.fake.nodes)[0]
    world.fake.set_node_ready(name, False)
    assert any(
        kind == "Node" and message.startswith(f"node {name!r} of role") and "not ready" in message
        for kind, message in _messages(_validate(world))
    )


def test_master_missing_a_control_plane_pod(world: World) -> None:
    master = next(
        n
        for n, o in world.fake.nodes.items()
        if "node-role.kubernetes.io/control-plane" in o["metadata"]["labels"]
    )
    world.fake.pods.pop(("kube-system", f"etcd-{master}"))
    assert ("Node", f"master {master!r} is missing etcd pod") in _messages(_validate(world))


def test_kube_system_pod_pending(world: World) -> None:
    world.fake.add_pod("kube-system", "coredns-abc", None, {"k8s-app": "kube-dns"}, phase="Pending")
    assert ("Pod", "kube-system pod 'coredns-abc' is pending") in _messages(_validate(world))


def test_invalid_cluster_exits_1_with_the_errors_as_json(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.set_node_ready(sorted(world.fake.nodes)[0], False)
    assert _run(["validate", "cluster", "--name", CLUSTER, "-o", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ready"] is False
    assert data["failures"][0]["kind"] == "Node"


def test_wait_polls_until_the_cluster_is_valid(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.kubelets.withhold(group_instances(NODES)[0])
    world.kubelets.start()
    timer = threading.Timer(0.5, world.kubelets.withheld.clear)
    timer.start()
    code = _run(["validate", "cluster", "--name", CLUSTER, "--wait", "30s", "--interval", "0.2s"])
    timer.join()
    assert code == 0
    assert f"Your cluster {CLUSTER} is ready" in capsys.readouterr().out


def test_wait_gives_up_with_exit_1(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.set_node_ready(sorted(world.fake.nodes)[0], False)
    code = _run(["validate", "cluster", "--name", CLUSTER, "--wait", "1s", "--interval", "0.2s"])
    assert code == 1
    assert "VALIDATION ERRORS" in capsys.readouterr().out


def test_unreachable_api_is_one_clear_line(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    url = world.api.url
    world.api.stop()
    assert _run(["validate", "cluster", "--name", CLUSTER]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the Kubernetes API server at" in err and url in err
    assert "Traceback" not in err


def test_a_bastion_is_not_expected_to_join_as_a_node() -> None:
    """kops's validate skips bastions: their machines run no kubelet."""

    def group(name: str, role: Role) -> CloudGroup:
        spec = InstanceGroupSpec(role=role, min_size=1, max_size=1)
        instance = CloudInstance(f"i-{name}", "eu-west-1a", "InService", "Healthy", "1")
        ig = InstanceGroup(metadata=ObjectMeta(name=name), spec=spec)
        return CloudGroup(ig, f"{name}.{CLUSTER}", True, 1, 1, 1, "1", [instance])

    _, failures = _check_nodes([group("bastions", Role.bastion)], [], [])
    assert failures == []
    _, failures = _check_nodes([group("nodes", Role.node)], [], [])
    assert [f.message for f in failures] == ["machine 'i-nodes' has not yet joined cluster"]
