"""The operations tests' world: moto for AWS, the fake for the Kubernetes API; the
access tests use the bootstrap fixtures (a state store holding one cluster)."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from escala.cloud.aws.session import ClientFactory
from escala.kube.client import KubeClient
from escala.state import StateStore
from tests.bootstrap.conftest import cluster, store  # noqa: F401  (access grant reads the spec)
from tests.kube.conftest import fake_api, kubeconfig  # noqa: F401  (access grant talks to the fake)
from tests.kube.fake_apiserver import FakeApiServer, FakeCluster, running
from tests.ops.world import CLUSTER, Kubelets, build_aws, build_store


@dataclass
class World:
    aws: ClientFactory
    store: StateStore
    api: FakeApiServer
    kubeconfig: Path
    kubelets: Kubelets

    @property
    def fake(self) -> FakeCluster:
        return self.api.cluster

    def kube(self) -> KubeClient:
        return KubeClient.for_cluster(CLUSTER, str(self.kubeconfig), timeout=5)


@pytest.fixture
def world(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Three masters and two nodes, InService in moto and registered in the fake."""
    build_aws()
    state_store = build_store(tmp_path / "state")
    monkeypatch.setenv("ESCALA_STATE_STORE", state_store.url)
    with running(FakeCluster()) as api:
        config = api.write_kubeconfig(tmp_path / "kubeconfig", CLUSTER)
        monkeypatch.setenv("KUBECONFIG", str(config))
        kubelets = Kubelets(api.cluster)
        kubelets.sync()
        yield World(ClientFactory(), state_store, api, config, kubelets)
        kubelets.stop()
