"""An existing cluster keeps its topology: `edit`/`replace` cannot move its machines
between public and private subnets, nor its NAT gateways between zones."""

import pytest

from escala.api import NatMode, Networking, Topology
from escala.errors import CannotChangeField
from escala.ops.specs import save_cluster
from escala.state import open_store
from tests.api.specs import NAME, completed


def test_an_existing_cluster_keeps_its_topology(tmp_path) -> None:
    store = open_store(f"file://{tmp_path}")
    cluster, groups = completed(topology=Topology.private, networking=Networking.calico)
    store.put_cluster(cluster, completed=cluster)
    for group in groups:
        store.put_instance_group(NAME, group)
    edited = cluster.model_copy(deep=True)
    assert edited.spec.topology is not None
    edited.spec.topology.nat = NatMode.single
    with pytest.raises(CannotChangeField, match=r"spec.topology: .*\(private, nat per-zone -> "):
        save_cluster(store, edited)
