"""A file state store holding the reconcile tests' cluster, and an empty moto account."""

from pathlib import Path

import pytest

from escala.state import StateStore, open_store
from tests.kube.conftest import fake_api, kubeconfig  # noqa: F401  (the Kubernetes API fake)
from tests.reconcile.specs import write_cluster


@pytest.fixture
def state_url(tmp_path: Path) -> str:
    return f"file://{tmp_path}/state"


@pytest.fixture
def store(state_url: str, aws: str) -> StateStore:
    state = open_store(state_url)
    write_cluster(state)
    return state
