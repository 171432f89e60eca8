"""`delete cluster`: everything the cluster owns in AWS, then its state-store entry.

Resources are found by their ownership tags, not by the spec, so what Kubernetes made
for the cluster (Service load balancers, dynamically provisioned volumes) goes too,
and `shared` resources stay.
"""

from escala.cloud.aws.session import ClientFactory
from escala.errors import NotFound
from escala.ops.update import check_region
from escala.reconcile.delete import delete_owned, deletion_plan, find_owned
from escala.reconcile.plan import Plan
from escala.state import StateStore


def delete_cluster(
    store: StateStore, cluster_name: str, clients: ClientFactory, *, yes: bool
) -> Plan:
    """List (and with `yes` delete) the cluster's resources; the store entry goes last,
    so an interrupted delete can simply be run again."""
    in_store = store.has_cluster(cluster_name)
    if in_store:
        check_region(clients, store.get_cluster(cluster_name).spec.region, cluster_name)
    resources = find_owned(clients, cluster_name)
    if not in_store and not resources:
        raise NotFound(
            f"cluster {cluster_name!r}: not in state store {store.url} and no AWS resource "
            f"in {clients.region} is tagged as its own (see `escala get clusters`)"
        )
    plan = deletion_plan(cluster_name, resources)
    if yes:
        delete_owned(clients, resources)
        store.delete_cluster(cluster_name)
        plan.applied = True
    return plan
