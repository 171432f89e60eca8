"""The chat's PostgreSQL on a volume: a StatefulSet claiming from the cluster's default
StorageClass, its credentials in a Secret made once on the cluster (the API fake) and
never printed, and every chat replica pointed at it."""

import base64
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from escala.api.chat_deployment import ChatDeployment
from escala.cloud.aws.tags import csi_volume_tags
from escala.kube import chat_database
from escala.kube.addons import storage_addons
from escala.kube.manifests import chat_app
from escala.kube.storage_classes import DEFAULT_ANNOTATION
from tests.bootstrap.conftest import CLUSTER
from tests.cli.run import escala
from tests.kube.fake_apiserver import FakeApiServer
from tests.kube.test_manifests import by_kind

SECRET_KEY = ("secrets", "escala-chat", chat_database.SECRET)


def run(capsys, store, kubeconfig: Path, *args: str):
    return escala(
        capsys, *args, "--name", CLUSTER, "--state", store.url, "--kubeconfig", str(kubeconfig)
    )


def _secret(fake_api: FakeApiServer) -> dict[str, str]:
    data = fake_api.cluster.generic[SECRET_KEY]["data"]
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def test_the_secret_is_made_once_never_printed_and_every_replica_uses_it(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    first = run(capsys, store, kubeconfig, "deploy", "chat", "--image", "escala:0.1.0")
    assert first.code == 0, first.err
    made = _secret(fake_api)
    assert len(made["password"]) >= 24
    url = urlsplit(made["url"])
    assert url.password == made["password"]
    service = fake_api.cluster.generic[("services", "escala-chat", "postgres")]
    assert (url.hostname, url.port) == ("postgres", service["spec"]["ports"][0]["port"])
    printed = run(
        capsys, store, kubeconfig, "deploy", "chat", "--image", "escala:0.1.0", "-o", "yaml"
    )
    second = run(capsys, store, kubeconfig, "deploy", "chat", "--image", "escala:0.1.0")
    for out in (first, printed, second):
        assert made["password"] not in out.out + out.err
    assert "Secret" not in {d["kind"] for d in yaml.safe_load_all(printed.out)}
    assert _secret(fake_api) == made  # kept: the database was initialised with it
    assert "kept" in second.out

    pod = fake_api.cluster.generic[("deployments", "escala-chat", "chat")]["spec"]["template"]
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    ref = {"secretKeyRef": {"name": chat_database.SECRET, "key": "url"}}
    assert env["ESCALA_CHAT_DATABASE"]["valueFrom"] == ref
    database = fake_api.cluster.generic[("statefulsets", "escala-chat", "postgres")]
    [server] = database["spec"]["template"]["spec"]["containers"]
    password = next(e for e in server["env"] if e["name"] == "POSTGRES_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {
        "name": chat_database.SECRET,
        "key": "password",
    }


def test_the_database_claims_its_volume_from_the_default_class() -> None:
    chat = ChatDeployment.for_cluster(CLUSTER, "1.31.2", "eu-west-1")
    database = by_kind(chat_app(chat), "StatefulSet", "postgres")
    [claim] = database["spec"]["volumeClaimTemplates"]
    classes = [o for o in storage_addons(CLUSTER, "eu-west-1", csi_volume_tags(CLUSTER))
               if o["kind"] == "StorageClass"]  # fmt: skip
    [default] = [c for c in classes if c["metadata"]["annotations"][DEFAULT_ANNOTATION] == "true"]
    assert claim["spec"]["storageClassName"] == default["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    [server] = database["spec"]["template"]["spec"]["containers"]
    mounts = {m["name"]: m["mountPath"] for m in server["volumeMounts"]}
    pgdata = next(e["value"] for e in server["env"] if e["name"] == "PGDATA")
    assert pgdata.startswith(mounts[claim["metadata"]["name"]] + "/")  # the data is on it


def test_a_database_of_the_users_own_replaces_escalas(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    out = run(
        capsys,
        store,
        kubeconfig,
        "deploy",
        "chat",
        "--image",
        "escala:0.1.0",
        "--database-secret",
        "mine",
    )
    assert out.code == 0, out.err
    assert SECRET_KEY not in fake_api.cluster.generic
    assert ("statefulsets", "escala-chat", "postgres") not in fake_api.cluster.generic
    pod = fake_api.cluster.generic[("deployments", "escala-chat", "chat")]["spec"]["template"]
    [database] = [
        e for e in pod["spec"]["containers"][0]["env"] if e["name"] == "ESCALA_CHAT_DATABASE"
    ]
    assert database["valueFrom"]["secretKeyRef"]["name"] == "mine"
