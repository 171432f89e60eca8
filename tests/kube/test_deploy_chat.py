"""`escala deploy chat` and `escala delete chat`, end to end through the CLI, against the
Kubernetes API fake (tests/kube/fake_apiserver.py) and a state store holding the cluster."""

from pathlib import Path

import pytest
import yaml

from tests.bootstrap.conftest import CLUSTER
from tests.cli.run import escala
from tests.kube.fake_apiserver import FakeApiServer
from tests.servers import free_port

OBJECTS = 22  # metrics-server: 9, cluster-autoscaler: 6, the chat app: 7


def run(capsys, store, kubeconfig: Path, *args: str):
    return escala(
        capsys, *args, "--name", CLUSTER, "--state", store.url, "--kubeconfig", str(kubeconfig)
    )


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
    assert f"{OBJECTS} created" in first.out
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
    assert f"{OBJECTS} unchanged" in second.out
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
    assert f"{OBJECTS} unchanged. http://{hostname}/" in again.out


def test_a_changed_flag_replaces_only_the_object_it_shapes(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    assert run(capsys, store, kubeconfig, "deploy", "chat").code == 0
    before = versions(fake_api)
    hpa_key = ("generic", "horizontalpodautoscalers", "escala-chat", "chat")

    again = run(capsys, store, kubeconfig, "deploy", "chat", "--cpu-target", "50", "--max", "20")

    assert again.code == 0, again.err
    assert f"{OBJECTS - 1} unchanged, 1 replaced" in again.out
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


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_output_prints_every_manifest_and_touches_nothing(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path, fmt: str
) -> None:
    result = run(capsys, store, kubeconfig, "deploy", "chat", "-o", fmt)

    assert result.code == 0, result.err
    docs = list(yaml.safe_load_all(result.out)) if fmt == "yaml" else yaml.safe_load(result.out)
    assert len(docs) == OBJECTS
    kinds = {d["kind"] for d in docs}
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "ClusterRole"} <= kinds
    assert not fake_api.cluster.generic
    assert not fake_api.cluster.pdbs


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--min", "5", "--max", "3"], "--max: 3 must be >= --min (5)"),
        (["--cpu-target", "150"], "--cpu-target: 150 must be a CPU percentage from 1 to 100"),
        (["--image", "not a/valid image"], "--image: 'not a/valid image'"),
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
    result = run(capsys, store, config, "deploy", "chat")
    assert result.code == 1
    assert "cannot reach the Kubernetes API server at" in result.err
    assert "Traceback" not in result.err


def test_delete_chat_is_a_dry_run_without_yes_and_leaves_the_cluster_add_ons(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    assert run(capsys, store, kubeconfig, "deploy", "chat").code == 0
    dry = run(capsys, store, kubeconfig, "delete", "chat")
    assert dry.code == 0
    assert "Must specify --yes" in dry.out
    assert dry.out.count("would delete") == 7
    assert len(versions(fake_api)) == OBJECTS

    gone = run(capsys, store, kubeconfig, "delete", "chat", "--yes")

    assert gone.code == 0, gone.err
    assert "7 deleted" in gone.out
    left = {k[1:] for k in versions(fake_api)}
    assert ("namespaces", "", "escala-chat") not in left
    assert ("deployments", "kube-system", "cluster-autoscaler") in left
    assert ("deployments", "kube-system", "metrics-server") in left
    assert ("apiservices", "", "v1beta1.metrics.k8s.io") in left
    assert len(left) == OBJECTS - 7
    assert not fake_api.cluster.pdbs
    again = run(capsys, store, kubeconfig, "delete", "chat", "--yes")
    assert "7 absent" in again.out
    dry_again = run(capsys, store, kubeconfig, "delete", "chat")
    assert "would delete" not in dry_again.out and dry_again.out.count("absent") == 7


def test_database_secret_flag_reaches_the_chat_pods(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    result = run(capsys, store, kubeconfig, "deploy", "chat", "--database-secret", "chat-db")
    assert result.code == 0, result.err
    chat = fake_api.cluster.generic[("deployments", "escala-chat", "chat")]
    env = chat["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "ESCALA_CHAT_DATABASE",
            "valueFrom": {"secretKeyRef": {"name": "chat-db", "key": "url"}}} in env  # fmt: skip
