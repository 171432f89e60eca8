"""`escala describe cluster` and `escala get instances`: each instance group's ASG from the
sandbox, and from the Kubernetes API fake the chat's HPA, its pods per zone and
cluster-autoscaler's status ConfigMap; with the API down, the cloud half and what is
missing."""

import json

from escala.kube.manifests import ZONE
from tests.cli.run import escala
from tests.ops.world import CLUSTER, MASTERS, NODES, group_instances

# cluster-autoscaler 1.30+'s status, as it writes it (`data.status` of its ConfigMap).
AUTOSCALER_STATUS = """\
time: 2026-12-03 08:01:02.123456789 +0000 UTC
autoscalerStatus: Running
clusterWide:
  health:
    status: Healthy
    nodeCounts:
      registered: {total: 5, ready: 5, notStarted: 0}
  scaleUp: {status: InProgress}
  scaleDown: {status: NoCandidates}
nodeGroups:
- name: nodes.proyecto.k8s.local
  health:
    status: Healthy
    nodeCounts:
      registered: {total: 2, ready: 2}
    cloudProviderTarget: 3
    minSize: 2
    maxSize: 6
  scaleUp: {status: InProgress}
  scaleDown: {status: NoCandidates}
"""


RESCALED = "the HPA controller was able to update the target scale to 4"


def _seed_kubernetes(world) -> None:  # type: ignore[no-untyped-def]
    """What the kubelets, the HPA controller and cluster-autoscaler would have written."""
    fake = world.fake
    with fake.lock:
        for node in fake.nodes.values():
            node["metadata"]["labels"][ZONE] = node["spec"]["providerID"].split("/")[3]
        workers = sorted(n for n, o in fake.nodes.items() if "node-role.kubernetes.io/control-plane"
                         not in o["metadata"]["labels"])  # fmt: skip
    chat = {"app.kubernetes.io/name": "chat"}
    for i, node in enumerate(workers):
        fake.add_pod("escala-chat", f"chat-{i}", node, chat, owner=("ReplicaSet", "chat-1"))
    fake.add_pod("escala-chat", "chat-pending", None, chat, phase="Pending", ready=False)
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "chat", "namespace": "escala-chat"},
        "spec": {
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}],
        },
        "status": {
            "currentReplicas": 3,
            "desiredReplicas": 4,
            "currentMetrics": [{"type": "Resource", "resource": {
                "name": "cpu", "current": {"averageUtilization": 75, "averageValue": "187m"}}}],
            "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale",
                            "message": RESCALED}],
        },
    }  # fmt: skip
    status = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cluster-autoscaler-status", "namespace": "kube-system"},
        "data": {"status": AUTOSCALER_STATUS},
    }
    with fake.lock:
        for plural, obj in (("horizontalpodautoscalers", hpa), ("configmaps", status)):
            meta = obj["metadata"]
            fake.generic[(plural, meta["namespace"], meta["name"])] = fake._meta(
                obj, meta["name"], meta["namespace"]
            )


def test_describe_cluster_joins_the_cloud_and_kubernetes(world, capsys):
    _seed_kubernetes(world)
    shown = escala(capsys, "describe", "cluster", "--name", CLUSTER, "-o", "json")
    assert shown.code == 0, shown.err
    status = json.loads(shown.out)
    groups = status["instanceGroups"]
    assert set(groups) == {*MASTERS, NODES}
    nodes = groups[NODES]
    assert [nodes[k] for k in ("min", "desired", "running", "pending", "max")] == [2, 2, 2, 0, 2]
    assert len(nodes["activities"]) == 2  # the two instances launched at creation
    assert all("created an AutoScalingGroup" in a["cause"] for a in nodes["activities"])

    kube = status["kubernetes"]
    assert kube["missing"] == []
    hpa = kube["hpa"]
    assert (hpa["current"], hpa["desired"], hpa["min"], hpa["max"]) == (3, 4, 2, 10)
    assert hpa["metrics"] == ["cpu: 75% / 60%"]
    assert hpa["conditions"] == [f"AbleToScale True SucceededRescale: {RESCALED}"]
    zones = {z: c["ready"] for z, c in kube["podsPerZone"].items()}
    assert sum(zones.values()) == 2 and kube["podsPerZone"]["(pending)"] == {
        "ready": 0, "notReady": 1,
    }  # fmt: skip
    group = kube["clusterAutoscaler"]["nodeGroups"][0]
    assert (group["name"], group["health"]["cloudProviderTarget"]) == (f"nodes.{CLUSTER}", 3)

    table = escala(capsys, "describe", "cluster", "--name", CLUSTER)
    assert table.code == 0, table.err
    assert "cpu: 75% / 60%" in table.out
    assert "autoscaler Running, cluster Healthy" in table.out
    assert f"nodes.{CLUSTER}: Healthy, ready 2/2, target 3 (min 2, max 6), scale-up InProgress" in (
        table.out
    )


def test_with_the_api_down_the_cloud_half_stays_and_says_what_is_missing(world, capsys):
    world.api.stop()
    shown = escala(capsys, "describe", "cluster", "--name", CLUSTER, "-o", "json")
    assert shown.code == 0, shown.err
    status = json.loads(shown.out)
    assert status["instanceGroups"][NODES]["desired"] == 2
    (missing,) = status["kubernetes"]["missing"]
    assert missing.startswith("Kubernetes API: cannot reach the Kubernetes API server")
    assert status["kubernetes"]["hpa"] is None

    table = escala(capsys, "describe", "cluster", "--name", CLUSTER)
    assert table.code == 0 and "missing: Kubernetes API: cannot reach" in table.out

    instances = escala(capsys, "get", "instances", "--name", CLUSTER, "-o", "json")
    assert instances.code == 0
    assert {r["node_name"] for r in json.loads(instances.out)} == {""}


def test_get_instances_lists_them_as_kops_does(world, capsys):
    shown = escala(capsys, "get", "instances", "--name", CLUSTER)
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0].split() == ["ID", "NODE-NAME", "STATUS", "ROLES", "STATE", "INTERNAL-IP",
                                "INSTANCE-GROUP", "MACHINE-TYPE"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {i for g in [*MASTERS, NODES] for i in group_instances(g)}
    node_ids = group_instances(NODES)
    nodes = {n["spec"]["providerID"].rsplit("/", 1)[-1]: name
             for name, n in world.fake.nodes.items()}  # fmt: skip
    for instance in node_ids:
        row = rows[instance]
        assert row[1] == nodes[instance]  # the node's name, from the Kubernetes API
        assert row[2:5] == ["UpToDate", "node", "InService"]
        assert row[-2:] == [NODES, "t3.medium"]


def test_an_unknown_cluster_is_named(world, capsys):
    out = escala(capsys, "describe", "cluster", "--name", "nope.k8s.local")
    assert out.code == 2 and "nope.k8s.local" in out.err
