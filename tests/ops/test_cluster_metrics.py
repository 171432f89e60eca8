"""`escala metrics cluster`: each instance group's Auto Scaling Group series, written with
PutMetricData into the sandbox as AWS would have published them during a scale-out of
the nodes, come back through the command as JSON, as terminal charts and as a PNG; a
group without datapoints is said in words; `--instance-group` keeps the groups named; a
cluster, metric or instance group escala does not know exits 2 naming it."""

import json
from pathlib import Path

import pytest

from tests.cli.run import escala
from tests.datapoints import put_minutes, shown_values
from tests.ops.world import CLUSTER, MASTERS, NODES, build_store

MINUTES = 30
NODES_DESIRED = [2.0] * 10 + [3.0] * 12 + [2.0] * 8
NODES_RUNNING = [2.0] * 12 + [3.0] * 12 + [2.0] * 6  # instances join two minutes late
NODES_CPU = [30.0 + 2 * i for i in range(MINUTES)]


@pytest.fixture
def seeded(aws: str, tmp_path: Path) -> tuple[str, str]:
    """A cluster's spec in a state store (three masters and `nodes`), and its nodes'
    group metrics and the first master's CPU in CloudWatch."""
    store = build_store(tmp_path / "state")
    nodes = {"AutoScalingGroupName": f"{NODES}.{CLUSTER}"}
    put_minutes("AWS/AutoScaling", "GroupDesiredCapacity", nodes, NODES_DESIRED)
    put_minutes("AWS/AutoScaling", "GroupInServiceInstances", nodes, NODES_RUNNING)
    put_minutes("AWS/EC2", "CPUUtilization", nodes, NODES_CPU)
    master = {"AutoScalingGroupName": f"{MASTERS[0]}.{CLUSTER}"}
    put_minutes("AWS/EC2", "CPUUtilization", master, [12.0] * MINUTES)
    return ("--state", store.url)


def test_each_instance_group_has_its_series(seeded, capsys, tmp_path):
    asked = escala(capsys, "metrics", "cluster", "--name", CLUSTER, *seeded, "--since", "1h",
                   "-o", "json")  # fmt: skip
    assert asked.code == 0, asked.err
    document = json.loads(asked.out)
    assert document["subject"] == f"cluster {CLUSTER}"
    groups = [*MASTERS, NODES]
    assert [m["metric"] for m in document["metrics"]] == [
        f"{key}/{group}" for group in groups for key in ("cpu", "desired", "running")
    ]
    assert shown_values(document, f"desired/{NODES}") == NODES_DESIRED
    assert shown_values(document, f"running/{NODES}") == NODES_RUNNING
    assert shown_values(document, f"cpu/{NODES}") == NODES_CPU
    assert shown_values(document, f"cpu/{MASTERS[0]}") == [12.0] * MINUTES
    assert shown_values(document, f"desired/{MASTERS[1]}") == []  # nothing published for it
    (query,) = [m["cloudwatch"] for m in document["metrics"] if m["metric"] == f"desired/{NODES}"]
    assert query == {"namespace": "AWS/AutoScaling", "name": "GroupDesiredCapacity",
                     "dimensions": {"AutoScalingGroupName": f"{NODES}.{CLUSTER}"},
                     "stat": "Average"}  # fmt: skip

    png = tmp_path / "cluster.png"
    charts = escala(capsys, "metrics", "cluster", "--name", CLUSTER, *seeded, "--since", "1h",
                    "-m", "desired,running", "--png", str(png))  # fmt: skip
    assert charts.code == 0, charts.err
    assert f"desired/{NODES}: desired instances, {NODES} (instances)" in charts.out
    assert f"running/{NODES}: in-service instances, {NODES} (instances)" in charts.out
    assert f"desired/{MASTERS[0]}: no datapoints from CloudWatch between" in charts.out
    assert f"desired/{MASTERS[0]}: desired" not in charts.out, "an empty series is not drawn"
    assert "cpu/" not in charts.out, "only the metrics asked for"
    assert f"wrote {png}" in charts.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_instance_group_keeps_only_the_groups_named(seeded, capsys):
    asked = escala(capsys, "metrics", "cluster", CLUSTER, *seeded, "--since", "1h",
                   "--instance-group", f"{NODES},{MASTERS[0]}", "-o", "json")  # fmt: skip
    assert asked.code == 0, asked.err
    shown = [m["metric"] for m in json.loads(asked.out)["metrics"]]
    assert shown == [f"{key}/{group}" for group in (MASTERS[0], NODES)
                     for key in ("cpu", "desired", "running")]  # fmt: skip


def test_bad_input_is_named_and_exits_2(seeded, capsys, tmp_path):
    unknown = escala(capsys, "metrics", "cluster", "--name", "nope.k8s.local", *seeded)
    assert unknown.code == 2 and "cluster 'nope.k8s.local' not found" in unknown.err
    assert "escala get clusters" in unknown.err
    cases = {
        ("-m", "cpu,connections"): "--metric: connections is not a metric escala knows for a "
        "cluster; use cpu, desired, running",
        ("--period", "90"): "--period 90: must be a multiple of 60",
        ("--since", "yesterday"): "--since 'yesterday': not a duration or a time",
        ("--since", "٣h"): "--since '٣h': not a duration or a time",  # a digit, not 0-9
        ("--png", str(tmp_path / "no" / "x.png")): "does not exist; create it first",
        ("--instance-group", "workers"): f"--instance-group workers: no such instance group "
        f"in cluster {CLUSTER} (known: {', '.join(sorted([*MASTERS, NODES]))})",
    }
    for flags, message in cases.items():
        out = escala(capsys, "metrics", "cluster", "--name", CLUSTER, *seeded, *flags)
        assert out.code == 2 and message in out.err, (flags, out.err)
