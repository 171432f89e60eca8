"""Fixtures around the Kubernetes API fake (tests/kube/fake_apiserver.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from escala.kube.client import KubeClient
from tests.bootstrap.conftest import cluster, store  # noqa: F401  (deploy chat reads the spec)
from tests.kube.fake_apiserver import FakeApiServer, FakeCluster, running

CONTEXT = "proyecto.k8s.local"


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    """The fake API server, empty, on a free loopback port."""
    with running(FakeCluster()) as server:
        yield server


@pytest.fixture
def kubeconfig(fake_api: FakeApiServer, tmp_path: Path) -> Path:
    """A kubeconfig whose context named after the cluster points at the fake."""
    return fake_api.write_kubeconfig(tmp_path / "kubeconfig", CONTEXT)


@pytest.fixture
def kube(kubeconfig: Path) -> Iterator[KubeClient]:
    client = KubeClient.for_cluster(CONTEXT, str(kubeconfig))
    yield client
    client.close()
