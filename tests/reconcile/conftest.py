import pytest

from escala.cloud.aws.session import ClientFactory
from escala.state import StateStore, open_store
from tests.reconcile.specs import write_cluster


@pytest.fixture
def store(tmp_path) -> StateStore:
    state = open_store(f"file://{tmp_path}/state")
    write_cluster(state)
    return state


@pytest.fixture
def clients(aws: str) -> ClientFactory:
    return ClientFactory()
