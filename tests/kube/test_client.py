"""The Kubernetes client against the fake: what validate, drain and access grant rely on.

These double as tests of the fake's own semantics (eviction and PDBs, Status objects,
404/409), so other tests can trust it.
"""

import http.server
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from escala.errors import KubernetesUnreachable, UsageError
from escala.kube.client import KubeApiError, KubeClient, instance_id_of, node_is_ready
from tests.kube.conftest import CONTEXT
from tests.kube.fake_apiserver import FakeApiServer
from tests.servers import free_port

BINDING = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "RoleBinding",
    "metadata": {"name": "alice-edit", "namespace": "chat"},
    "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}],
    "roleRef": {"kind": "ClusterRole", "name": "edit", "apiGroup": "rbac.authorization.k8s.io"},
}


def test_lists_nodes_and_maps_them_to_instances(fake_api: FakeApiServer, kube: KubeClient) -> None:
    fake_api.cluster.add_node("ip-10-0-1-5", "aws:///eu-west-1a/i-0abc", role="master")
    fake_api.cluster.add_node("ip-10-0-2-7", "aws:///eu-west-1b/i-0def", ready=False)
    nodes = {n["metadata"]["name"]: n for n in kube.list_nodes()}
    assert instance_id_of(nodes["ip-10-0-1-5"]) == "i-0abc"
    assert node_is_ready(nodes["ip-10-0-1-5"])
    assert not node_is_ready(nodes["ip-10-0-2-7"])
    assert "node-role.kubernetes.io/control-plane" in nodes["ip-10-0-1-5"]["metadata"]["labels"]


def test_lists_pods_by_node_and_namespace(fake_api: FakeApiServer, kube: KubeClient) -> None:
    fake_api.cluster.add_node("a")
    fake_api.cluster.add_node("b")
    fake_api.cluster.add_pod("chat", "web-1", "a", {"app": "web"})
    fake_api.cluster.add_pod("chat", "web-2", "b", {"app": "web"})
    fake_api.cluster.add_pod("kube-system", "dns-1", "a", {"app": "dns"})
    assert {p["metadata"]["name"] for p in kube.list_pods(node="a")} == {"web-1", "dns-1"}
    assert {p["metadata"]["name"] for p in kube.list_pods("chat")} == {"web-1", "web-2"}
    assert [p["metadata"]["name"] for p in kube.list_pods(label_selector="app=dns")] == ["dns-1"]


def test_cordon_and_uncordon_patch_the_node(fake_api: FakeApiServer, kube: KubeClient) -> None:
    fake_api.cluster.add_node("a")
    kube.set_unschedulable("a", True)
    assert fake_api.cluster.nodes["a"]["spec"]["unschedulable"] is True
    kube.set_unschedulable("a", False)
    assert "unschedulable" not in fake_api.cluster.nodes["a"]["spec"]


def test_eviction_respects_the_disruption_budget(fake_api: FakeApiServer, kube: KubeClient) -> None:
    cluster = fake_api.cluster
    cluster.add_node("a")
    cluster.add_node("b")
    cluster.pod_ready_delay = 3600  # replacements never become Ready during this test
    pods = cluster.add_replicaset("chat", "web", 2, {"app": "web"})
    cluster.add_pdb("chat", "web", {"app": "web"}, min_available=1)

    first = kube.evict("chat", pods[0]["metadata"]["name"])
    second = kube.evict("chat", pods[1]["metadata"]["name"])

    assert first.evicted
    assert not second.evicted
    assert "disruption budget" in second.message
    assert kube.get_pod("chat", pods[0]["metadata"]["name"]) is None
    assert kube.get_pod("chat", pods[1]["metadata"]["name"]) is not None
    # the ReplicaSet re-created the evicted pod elsewhere, not yet Ready
    assert len(kube.list_pods("chat")) == 2
    assert cluster.lowest_healthy[("chat", "web")] == 1


def test_eviction_is_allowed_again_once_the_replacement_is_ready(
    fake_api: FakeApiServer, kube: KubeClient
) -> None:
    cluster = fake_api.cluster
    cluster.add_node("a")
    cluster.add_node("b")
    pods = cluster.add_replicaset("chat", "web", 2, {"app": "web"})
    cluster.add_pdb("chat", "web", {"app": "web"}, max_unavailable=1)
    assert kube.evict("chat", pods[0]["metadata"]["name"]).evicted
    assert kube.evict("chat", pods[1]["metadata"]["name"]).evicted  # replacement was Ready


def test_eviction_of_a_pod_under_two_budgets_is_a_server_error(
    fake_api: FakeApiServer, kube: KubeClient
) -> None:
    fake_api.cluster.add_node("a")
    fake_api.cluster.add_pod("chat", "web-1", "a", {"app": "web"})
    fake_api.cluster.add_pdb("chat", "one", {"app": "web"}, min_available=0)
    fake_api.cluster.add_pdb("chat", "two", {"app": "web"}, min_available=0)
    with pytest.raises(KubeApiError) as caught:
        kube.evict("chat", "web-1")
    assert caught.value.code == 500


def test_errors_are_status_objects(fake_api: FakeApiServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{fake_api.url}/api/v1/namespaces/chat/pods/nope")
    status = json.loads(caught.value.read())
    assert caught.value.code == 404
    assert status["kind"] == "Status"
    assert status["reason"] == "NotFound"
    assert status["details"] == {"name": "nope", "group": "", "kind": "pods"}


def test_apply_creates_then_replaces_rbac_objects(
    fake_api: FakeApiServer, kube: KubeClient
) -> None:
    assert kube.apply(BINDING) == "created"
    changed = {**BINDING, "roleRef": {**BINDING["roleRef"], "name": "view"}}
    assert kube.apply(changed) == "replaced"
    stored = fake_api.cluster.generic[("rolebindings", "chat", "alice-edit")]
    assert stored["roleRef"]["name"] == "view"
    cluster_binding = {**BINDING, "kind": "ClusterRoleBinding", "metadata": {"name": "bob"}}
    assert kube.apply(cluster_binding) == "created"
    assert ("clusterrolebindings", "", "bob") in fake_api.cluster.generic


def test_apply_namespace_twice(fake_api: FakeApiServer, kube: KubeClient) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "chat"}}
    assert kube.apply(namespace) == "created"
    labelled = {**namespace, "metadata": {"name": "chat", "labels": {"team": "chat"}}}
    assert kube.apply(labelled) == "replaced"
    stored = kube.request("GET", "/api/v1/namespaces/chat")
    assert stored["metadata"]["labels"] == {"team": "chat"}


def test_apply_ignores_what_the_server_filled_in(fake_api: FakeApiServer, kube: KubeClient) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "chat"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    assert kube.apply(service) == "created"
    stored = kube.get(service)
    assert stored is not None
    ip = stored["spec"]["clusterIP"]  # allocated by the server
    assert stored["spec"]["ports"][0]["protocol"] == "TCP"  # defaulted inside a list item
    assert kube.apply(service) == "unchanged"
    service["spec"]["ports"][0]["port"] = 8080
    assert kube.apply(service) == "replaced"
    assert kube.get(service)["spec"]["clusterIP"] == ip  # kept across the replace


def test_apply_keeps_a_field_another_controller_owns(
    fake_api: FakeApiServer, kube: KubeClient
) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "chat"},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"image": "web:1"}]}}},
    }
    assert kube.apply(deployment, keep=("spec", "replicas")) == "created"
    fake_api.cluster.generic[("deployments", "chat", "web")]["spec"]["replicas"] = 6
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"
    assert kube.apply(deployment, keep=("spec", "replicas")) == "replaced"
    stored = kube.get(deployment)
    assert stored["spec"]["replicas"] == 6
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2"


def test_delete_says_whether_the_object_was_there(kube: KubeClient) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}}
    kube.apply(namespace)
    assert kube.delete(namespace) is True
    assert kube.get(namespace) is None
    assert kube.delete(namespace) is False


def test_create_twice_is_409_and_stale_replace_is_a_conflict(kube: KubeClient) -> None:
    path = "/apis/rbac.authorization.k8s.io/v1/namespaces/chat/rolebindings"
    kube.request("POST", path, body=BINDING)
    with pytest.raises(KubeApiError) as exists:
        kube.request("POST", path, body=BINDING)
    stale = {**BINDING, "metadata": {**BINDING["metadata"], "resourceVersion": "0"}}
    with pytest.raises(KubeApiError) as conflict:
        kube.request("PUT", f"{path}/alice-edit", body=stale)
    with pytest.raises(KubeApiError) as missing:
        kube.request("PUT", f"{path}/nobody", body=BINDING)
    assert (exists.value.code, exists.value.reason) == (409, "AlreadyExists")
    assert (conflict.value.code, conflict.value.reason) == (409, "Conflict")
    assert missing.value.code == 404


def test_unknown_kind_is_refused_by_apply(kube: KubeClient) -> None:
    with pytest.raises(UsageError, match="CronJob"):
        kube.apply({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "x"}})


def test_unreachable_api_names_the_server(fake_api: FakeApiServer, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = fake_api.write_kubeconfig(tmp_path / "kc", CONTEXT, server=dead)
    kube = KubeClient.for_cluster(CONTEXT, str(config), timeout=2)
    with pytest.raises(KubernetesUnreachable, match=f"cannot reach the Kubernetes API.*{dead}"):
        kube.list_nodes()


def test_missing_context_says_how_to_get_one(kubeconfig: Path) -> None:
    with pytest.raises(UsageError, match=r"escala export kubeconfig --name other\.k8s\.local"):
        KubeClient.for_cluster("other.k8s.local", str(kubeconfig))


def test_refused_eviction_is_a_429_status_naming_the_budget(fake_api: FakeApiServer) -> None:
    fake_api.cluster.add_node("a")
    fake_api.cluster.add_pod("chat", "web-1", "a", {"app": "web"})
    fake_api.cluster.add_pdb("chat", "web", {"app": "web"}, min_available=1)
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-1"}}
    request = urllib.request.Request(
        f"{fake_api.url}/api/v1/namespaces/chat/pods/web-1/eviction",
        data=json.dumps(eviction).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    status = json.loads(caught.value.read())
    assert (caught.value.code, status["reason"]) == (429, "TooManyRequests")
    assert status["details"]["causes"][0]["type"] == "DisruptionBudget"
    assert "needs 1 healthy pods and has 1 currently" in status["details"]["causes"][0]["message"]


class _Proxy(http.server.BaseHTTPRequestHandler):
    """What a load balancer or proxy in front of a dead API server answers: HTML."""

    def do_GET(self) -> None:
        status = 502 if self.path.startswith("/api/v1/nodes") else 200
        body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("path", "error", "match"),
    [
        ("/api/v1/nodes", KubeApiError, r"502 Bad Gateway"),
        ("/api/v1/pods", KubernetesUnreachable, r"answered .* not a Kubernetes API \(not JSON"),
    ],
)
def test_an_answer_that_is_not_json_is_one_clear_error(
    fake_api: FakeApiServer, tmp_path: Path, path: str, error: type, match: str
) -> None:
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        server = f"http://127.0.0.1:{proxy.server_address[1]}"
        config = fake_api.write_kubeconfig(tmp_path / "kc", CONTEXT, server=server)
        kube = KubeClient.for_cluster(CONTEXT, str(config), timeout=2)
        with pytest.raises(error, match=match):
            kube.request("GET", path)
        kube.close()
    finally:
        proxy.shutdown()
        proxy.server_close()
