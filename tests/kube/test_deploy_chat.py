"""`escala deploy chat` and `escala delete chat`, end to end through the CLI, against the
Kubernetes API fake (tests/kube/fake_apiserver.py) and a state store holding the cluster."""

from pathlib import Path

import pytest
import yaml

from escala.api.chat_deployment import load_chat_deployment
from escala.state import StateStore
from tests.bootstrap.conftest import CLUSTER
from tests.cli.run import escala
from tests.image.records import REGISTRY, pushed
from tests.kube.fake_apiserver import FakeApiServer
from tests.servers import free_port

# metrics-server: 9, cluster-autoscaler: 6, EBS CSI + classes: 18, the chat app: 9 (its
# PostgreSQL's Service and StatefulSet included); and apart, that database's Secret
OBJECTS = 42
APP = 10  # what `delete chat` deletes: the app's objects and the Secret


def run(capsys, store, kubeconfig: Path, *args: str):
    return escala(
        capsys, *args, "--name", CLUSTER, "--state", store.url, "--kubeconfig", str(kubeconfig)
    )


@pytest.fixture(autouse=True)
def image(store: StateStore) -> str:
    """What `escala image push --name CLUSTER` recorded: deploys default to it."""
    record = pushed("Cluster", CLUSTER)
    store.put_image(record)
    return record.spec.reference


def versions(fake: FakeApiServer) -> dict[tuple, str]:
    """Every stored object's resourceVersion: any write changes one."""
    c = fake.cluster
    out = {("generic", *k): o["metadata"]["resourceVersion"] for k, o in c.generic.items()}
    out |= {("pdb", *k): o["metadata"]["resourceVersion"] for k, o in c.pdbs.items()}
    return out


def test_deploy_creates_everything_and_a_second_run_changes_nothing(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    first = run(capsys, store, kubeconfig, "deploy", "chat", "--image", "escala:0.1.0")
    assert first.code == 0, first.err
    assert f"{OBJECTS + 1} created" in first.out
    generic = fake_api.cluster.generic
    assert ("namespaces", "", "escala-chat") in generic
    assert ("deployments", "kube-system", "cluster-autoscaler") in generic
    assert ("horizontalpodautoscalers", "escala-chat", "chat") in generic
    assert ("escala-chat", "chat") in fake_api.cluster.pdbs
    chat = generic[("deployments", "escala-chat", "chat")]
    assert chat["spec"]["template"]["spec"]["containers"][0]["image"] == "escala:0.1.0"
    before = versions(fake_api)

    second = run(capsys, store, kubeconfig, "deploy", "chat", "--image", "escala:0.1.0")

    assert second.code == 0, second.err
    assert f"{OBJECTS} unchanged, 1 kept" in second.out
    assert versions(fake_api) == before
    assert "Its load balancer is being created" in second.out


def test_deploy_prints_the_address_once_the_load_balancer_exists(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    assert run(capsys, store, kubeconfig, "deploy", "chat").code == 0
    # what the cloud-controller-manager writes once the NLB exists
    service = fake_api.cluster.generic[("services", "escala-chat", "chat")]
    hostname = "chat-0123456789.elb.eu-west-1.amazonaws.com"
    service["status"] = {"loadBalancer": {"ingress": [{"hostname": hostname}]}}

    again = run(capsys, store, kubeconfig, "deploy", "chat")

    assert again.code == 0, again.err
    assert f"{OBJECTS} unchanged, 1 kept. http://{hostname}/" in again.out


def test_a_changed_flag_replaces_only_the_object_it_shapes(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    assert run(capsys, store, kubeconfig, "deploy", "chat").code == 0
    before = versions(fake_api)
    hpa_key = ("generic", "horizontalpodautoscalers", "escala-chat", "chat")

    again = run(capsys, store, kubeconfig, "deploy", "chat", "--cpu-target", "50", "--max", "20")

    assert again.code == 0, again.err
    assert f"{OBJECTS - 1} unchanged, 1 kept, 1 replaced" in again.out
    after = versions(fake_api)
    assert [k for k in before if before[k] != after[k]] == [hpa_key]
    hpa = fake_api.cluster.generic[hpa_key[1:]]["spec"]
    assert hpa["maxReplicas"] == 20
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 50


def test_the_replica_count_the_hpa_chose_is_kept(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    assert run(capsys, store, kubeconfig, "deploy", "chat", "--replicas", "2").code == 0
    key = ("deployments", "escala-chat", "chat")
    fake_api.cluster.generic[key]["spec"]["replicas"] = 7  # the HPA scaled out

    again = run(capsys, store, kubeconfig, "deploy", "chat", "--replicas", "2")

    assert again.code == 0, again.err
    assert f"{OBJECTS} unchanged" in again.out
    assert fake_api.cluster.generic[key]["spec"]["replicas"] == 7


def hpa_spec(fake: FakeApiServer) -> dict:
    return fake.cluster.generic[("horizontalpodautoscalers", "escala-chat", "chat")]["spec"]


def container(fake: FakeApiServer) -> dict:
    chat = fake.cluster.generic[("deployments", "escala-chat", "chat")]
    return chat["spec"]["template"]["spec"]["containers"][0]


def test_a_later_deploy_keeps_the_values_an_earlier_one_was_given(
    capsys, store: StateStore, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    """`--max 20` once, then only `--image`: the HPA keeps 20 (it used to go back to 10)."""
    first = run(capsys, store, kubeconfig, "deploy", "chat", "--max", "20", "--cpu-target", "60")
    assert first.code == 0, first.err
    assert "From the stored spec" not in first.err

    again = run(capsys, store, kubeconfig, "deploy", "chat", "--image", "escala:0.2.0")

    assert again.code == 0, again.err
    assert f"{store.url}/{CLUSTER}/chatdeployment): --max 20, --cpu-target 60" in again.err
    hpa = hpa_spec(fake_api)
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 20)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    assert container(fake_api)["image"] == "escala:0.2.0"
    lower = run(capsys, store, kubeconfig, "deploy", "chat", "--max", "8")
    assert lower.code == 0, lower.err
    assert "--image escala:0.2.0, --cpu-target 60" in lower.err
    assert hpa_spec(fake_api)["maxReplicas"] == 8


def test_allow_eio3_is_kept_until_no_allow_eio3(
    capsys, store: StateStore, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    """Socket.IO 2 clients, once allowed, stay allowed through later deploys (named on
    stderr as the other kept flags are) until `--no-allow-eio3`, which is kept too."""

    def eio3() -> list[dict]:
        return [e for e in container(fake_api)["env"] if e["name"] == "ESCALA_CHAT_ALLOW_EIO3"]

    assert run(capsys, store, kubeconfig, "deploy", "chat").code == 0
    assert eio3() == []
    on = run(capsys, store, kubeconfig, "deploy", "chat", "--allow-eio3")
    assert on.code == 0, on.err
    assert f"{OBJECTS - 1} unchanged, 1 kept, 1 replaced" in on.out  # the chat's Deployment
    assert eio3() == [{"name": "ESCALA_CHAT_ALLOW_EIO3", "value": "true"}]
    assert store.get_chat_deployment(CLUSTER).spec.allow_eio3 is True
    shown = escala(capsys, "get", "chatdeployment", CLUSTER, "--state", store.url, "-o", "yaml")
    assert yaml.safe_load(shown.out)["spec"]["allowEIO3"] is True

    again = run(capsys, store, kubeconfig, "deploy", "chat")
    assert again.code == 0, again.err
    assert "chatdeployment): --allow-eio3" in again.err
    assert eio3() == [{"name": "ESCALA_CHAT_ALLOW_EIO3", "value": "true"}]

    off = run(capsys, store, kubeconfig, "deploy", "chat", "--no-allow-eio3")
    assert off.code == 0, off.err
    assert eio3() == []
    later = run(capsys, store, kubeconfig, "deploy", "chat")
    assert "chatdeployment): --no-allow-eio3" in later.err
    assert eio3() == []


def test_with_no_image_given_a_new_push_is_what_the_next_deploy_runs(
    capsys, store: StateStore, fake_api: FakeApiServer, kubeconfig: Path, image: str
) -> None:
    """The pushed digest is not frozen into the stored spec: pushing again and deploying
    rolls the new one out, as before the spec was stored."""
    assert run(capsys, store, kubeconfig, "deploy", "chat", "--max", "20").code == 0
    assert container(fake_api)["image"] == image
    newer = pushed("Cluster", CLUSTER, digest="sha256:" + "7a" * 32)
    store.put_image(newer)

    again = run(capsys, store, kubeconfig, "deploy", "chat")

    assert again.code == 0, again.err
    assert container(fake_api)["image"] == newer.spec.reference
    assert hpa_spec(fake_api)["maxReplicas"] == 20


def test_get_chatdeployments_shows_what_the_next_deploy_keeps(
    capsys, store: StateStore, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    assert run(capsys, store, kubeconfig, "deploy", "chat", "--max", "20").code == 0
    listed = escala(capsys, "get", "chatdeployments", "--state", store.url)
    assert listed.code == 0, listed.err
    header, row = listed.out.splitlines()
    assert header.split() == ["CLUSTER", "IMAGE", "MIN", "MAX", "CPU-TARGET"]
    assert row.split() == [CLUSTER, "(last", "pushed)", "2", "20", "50%"]

    one = escala(capsys, "get", "chatdeployment", CLUSTER, "--state", store.url, "-o", "yaml")
    assert one.code == 0, one.err
    assert load_chat_deployment(one.out, "stdout") == store.get_chat_deployment(CLUSTER)
    assert yaml.safe_load(one.out)["spec"]["maxReplicas"] == 20

    missing = escala(capsys, "get", "chatdeployments", "nope.k8s.local", "--state", store.url)
    assert missing.code == 2 and "cluster 'nope.k8s.local' not found" in missing.err
    assert run(capsys, store, kubeconfig, "delete", "chat", "--yes").code == 0
    gone = escala(capsys, "get", "chatdeployments", CLUSTER, "--state", store.url)
    assert gone.code == 2 and f"no chat deployed on cluster {CLUSTER!r}" in gone.err
    assert CLUSTER not in escala(capsys, "get", "chatdeployments", "--state", store.url).out


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_output_prints_every_manifest_and_touches_nothing(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path, fmt: str
) -> None:
    result = run(capsys, store, kubeconfig, "deploy", "chat", "--max", "20", "-o", fmt)

    assert result.code == 0, result.err
    docs = list(yaml.safe_load_all(result.out)) if fmt == "yaml" else yaml.safe_load(result.out)
    assert len(docs) == OBJECTS
    kinds = {d["kind"] for d in docs}
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "ClusterRole"} <= kinds
    assert not fake_api.cluster.generic
    assert not fake_api.cluster.pdbs
    assert store.get_chat_deployment(CLUSTER) is None


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--min", "5", "--max", "3"], "--max: 3 must be >= --min (5)"),
        (["--cpu-target", "150"], "--cpu-target: 150 must be a CPU percentage from 1 to 100"),
        (["--image", "not a/valid image"], "--image: 'not a/valid image'"),
        (["--image", f"{REGISTRY}/escala/chat"], "has neither a tag nor a digest"),
        (
            ["--image", f"{REGISTRY}/escala/other.k8s.local:0.1.0"],
            "is in the repository of 'other.k8s.local', which is deleted with it",
        ),
    ],
)
def test_bad_flags_exit_2_and_apply_nothing(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path, args: list[str], named: str
) -> None:
    result = run(capsys, store, kubeconfig, "deploy", "chat", *args)
    assert result.code == 2
    assert named in result.err
    assert not fake_api.cluster.generic
    assert not fake_api.cluster.pdbs


def test_unreachable_api_is_one_line(
    capsys, store, fake_api: FakeApiServer, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = fake_api.write_kubeconfig(tmp_path / "dead", CLUSTER, server=dead)
    result = run(capsys, store, config, "deploy", "chat", "--max", "20")
    assert result.code == 1
    assert "cannot reach the Kubernetes API server at" in result.err
    assert "Traceback" not in result.err
    assert store.get_chat_deployment(CLUSTER) is None  # nothing applied, nothing stored


def test_delete_chat_is_a_dry_run_without_yes_and_leaves_the_cluster_add_ons(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    assert run(capsys, store, kubeconfig, "deploy", "chat").code == 0
    dry = run(capsys, store, kubeconfig, "delete", "chat")
    assert dry.code == 0
    assert "Must specify --yes" in dry.out
    assert dry.out.count("would delete") == APP
    assert len(versions(fake_api)) == OBJECTS + 1

    assert store.get_chat_deployment(CLUSTER) is not None  # the dry run keeps it

    gone = run(capsys, store, kubeconfig, "delete", "chat", "--yes")

    assert gone.code == 0, gone.err
    assert store.get_chat_deployment(CLUSTER) is None
    assert f"{APP} deleted" in gone.out
    left = {k[1:] for k in versions(fake_api)}
    assert ("namespaces", "", "escala-chat") not in left
    assert ("deployments", "kube-system", "cluster-autoscaler") in left
    assert ("deployments", "kube-system", "metrics-server") in left
    assert ("apiservices", "", "v1beta1.metrics.k8s.io") in left
    assert len(left) == OBJECTS + 1 - APP
    assert list(fake_api.cluster.pdbs) == [("kube-system", "ebs-csi-controller")]  # add-on
    again = run(capsys, store, kubeconfig, "delete", "chat", "--yes")
    assert f"{APP} absent" in again.out
    dry_again = run(capsys, store, kubeconfig, "delete", "chat")
    assert "would delete" not in dry_again.out and dry_again.out.count("absent") == APP


def test_database_secret_flag_reaches_the_chat_pods(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    result = run(capsys, store, kubeconfig, "deploy", "chat", "--database-secret", "chat-db")
    assert result.code == 0, result.err
    chat = fake_api.cluster.generic[("deployments", "escala-chat", "chat")]
    env = chat["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "ESCALA_CHAT_DATABASE",
            "valueFrom": {"secretKeyRef": {"name": "chat-db", "key": "url"}}} in env  # fmt: skip


def test_deploy_defaults_to_the_digest_pushed_for_the_cluster(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path, image: str
) -> None:
    assert "@sha256:" in image
    result = run(capsys, store, kubeconfig, "deploy", "chat")
    assert result.code == 0, result.err
    chat = fake_api.cluster.generic[("deployments", "escala-chat", "chat")]
    assert chat["spec"]["template"]["spec"]["containers"][0]["image"] == image


def test_without_a_pushed_image_deploy_says_how_to_push_one(
    capsys, store: StateStore, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    store.objects.delete(f"{CLUSTER}/image")
    result = run(capsys, store, kubeconfig, "deploy", "chat")
    assert result.code == 2
    assert "no image given and none pushed for cluster" in result.err
    assert f"escala image push --name {CLUSTER}" in result.err
    assert not fake_api.cluster.generic


def test_an_image_recorded_for_another_cluster_is_refused(
    capsys, store: StateStore, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    """A record copied from another cluster's folder of the state store."""
    other = pushed("Cluster", "other.k8s.local")
    store.put_image(other)
    store.objects.write(f"{CLUSTER}/image", store.objects.read("other.k8s.local/image") or b"")
    result = run(capsys, store, kubeconfig, "deploy", "chat")
    assert result.code == 2
    assert "was pushed for cluster 'other.k8s.local'" in result.err
    assert not fake_api.cluster.generic
