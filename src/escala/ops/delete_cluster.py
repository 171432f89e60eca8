"""`delete cluster`: everything the cluster owns in AWS, then its state-store entry.

Resources are found by their ownership tags, not by the spec, so what Kubernetes made
for the cluster (Service load balancers, dynamically provisioned volumes) goes too,
and `shared` resources stay.
"""

from collections.abc import Callable

from escala.cloud.aws.registry import ALL_DELETABLE, find_owned
from escala.cloud.aws.session import ClientFactory
from escala.errors import NotFound, UsageError
from escala.ops.update import check_region
from escala.reconcile.deletion import delete_owned, deletion_plan
from escala.reconcile.engine import OnStep
from escala.reconcile.plan import Plan
from escala.reconcile.task import Discoverable
from escala.state import StateStore


def delete_owner(
    clients: ClientFactory,
    owner: str,
    *,
    yes: bool,
    in_store: bool,
    forget: Callable[[], None],
    not_found: str,
    kinds: tuple[type[Discoverable], ...] = ALL_DELETABLE,
    on_step: OnStep | None = None,
) -> Plan:
    """List (and with `yes` delete) what `owner` owns by tag, then `forget` its spec:
    last, so an interrupted delete can simply be run again. NotFound(`not_found`) when
    neither the store nor AWS knows the owner."""
    resources = find_owned(clients, owner, kinds)
    if not in_store and not resources:
        raise NotFound(not_found)
    plan = deletion_plan(owner, resources)
    if yes:
        delete_owned(clients, resources, on_step=on_step)
        forget()
        plan.applied = True
    return plan


def delete_cluster(
    store: StateStore,
    cluster_name: str,
    clients: ClientFactory,
    *,
    yes: bool,
    on_step: OnStep | None = None,
) -> Plan:
    """List (and with `yes` delete) the cluster's resources, then its state-store entry.

    A name without a dot is a chat service's (both own their resources by the same
    tags): refused, so `delete cluster` never deletes a chat service's resources."""
    if "." not in cluster_name:
        raise UsageError(
            f"--name: {cluster_name!r} is not a cluster's name (a cluster's always has a "
            f"dot, a chat service's never); to delete a chat service: `escala delete "
            f"chatservice {cluster_name}`"
        )
    in_store = store.has_cluster(cluster_name)
    if in_store:
        check_region(clients, store.get_cluster(cluster_name).spec.region, cluster_name)
    return delete_owner(
        clients,
        cluster_name,
        yes=yes,
        on_step=on_step,
        in_store=in_store,
        forget=lambda: store.delete_cluster(cluster_name),
        not_found=f"cluster {cluster_name!r}: not in state store {store.url} and no AWS "
        f"resource in {clients.region} is tagged as its own (see `escala get clusters`)",
    )
