"""A state store in a temp directory holding one cluster, for the bootstrap tests."""

import pytest

from escala.api import Cluster, ClusterSpec, ObjectMeta
from escala.state import StateStore, open_store

CLUSTER = "proyecto.k8s.local"


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(
        metadata=ObjectMeta(name=CLUSTER),
        spec=ClusterSpec(region="eu-west-1", kubernetes_version="1.31.2"),
    )


@pytest.fixture
def store(tmp_path, cluster: Cluster) -> StateStore:
    s = open_store(f"file://{tmp_path}/state")
    s.put_cluster(cluster, cluster)
    return s
