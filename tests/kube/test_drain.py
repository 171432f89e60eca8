"""Draining a node through the Eviction API, against the fake."""

import pytest

from escala.kube.client import KubeClient
from escala.kube.drain import DrainTimeout, drain_node
from tests.kube.fake_apiserver import MIRROR, FakeApiServer


@pytest.fixture
def two_nodes(fake_api: FakeApiServer) -> FakeApiServer:
    fake_api.cluster.add_node("a")
    fake_api.cluster.add_node("b")
    return fake_api


def test_drain_evicts_workloads_and_leaves_daemonsets_and_static_pods(
    two_nodes: FakeApiServer, kube: KubeClient
) -> None:
    cluster = two_nodes.cluster
    cluster.add_pod("chat", "web-1", "a", {"app": "web"}, owner=("ReplicaSet", "web"))
    cluster.add_pod("kube-system", "proxy-a", "a", owner=("DaemonSet", "kube-proxy"))
    cluster.add_pod("kube-system", "etcd-a", "a", annotations={MIRROR: "x"})

    report = drain_node(kube, "a", timeout=10)

    assert report.evicted == ["chat/web-1"]
    assert cluster.nodes["a"]["spec"]["unschedulable"] is True
    on_a = {p["metadata"]["name"] for p in kube.list_pods(node="a")}
    assert on_a == {"proxy-a", "etcd-a"}
    # the ReplicaSet's replacement landed on the other node
    assert [p["spec"]["nodeName"] for p in kube.list_pods("chat")] == ["b"]
    assert ("chat", "web-1") not in cluster.pods and cluster.deleted_pods == [("chat", "web-1")]


def test_drain_waits_for_the_budget_then_gives_up_naming_the_pods(
    two_nodes: FakeApiServer, kube: KubeClient
) -> None:
    cluster = two_nodes.cluster
    cluster.add_pod("chat", "web-1", "a", {"app": "web"})
    cluster.add_pdb("chat", "web", {"app": "web"}, min_available=1)

    with pytest.raises(DrainTimeout, match=r"chat/web-1.*--drain-timeout"):
        drain_node(kube, "a", timeout=0.5)

    assert ("chat", "web-1") in cluster.pods
    assert {e.code for e in cluster.evictions} == {429}
