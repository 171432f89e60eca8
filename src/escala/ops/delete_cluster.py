"""`delete cluster`: everything the cluster owns in AWS, then its state-store entry.

Resources are found by their ownership tags, not by the spec, so what Kubernetes made
for the cluster (Service load balancers, dynamically provisioned volumes) goes too,
and `shared` resources stay; so do retained volumes unless told
(`escala.ops.cluster_volumes`).
"""

from collections.abc import Callable, Iterable

from escala.cloud.aws.ecr_repository import EcrRepository
from escala.cloud.aws.registry import ALL_DELETABLE, find_owned
from escala.cloud.aws.session import ClientFactory
from escala.errors import NotFound, UsageError
from escala.ops.cluster_volumes import volumes_to_keep
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
    keep: frozenset[str] = frozenset(),
    keep_image_repository: bool = False,
    on_step: OnStep | None = None,
) -> Plan:
    """List (and with `yes` delete) what `owner` owns by tag, but the IDs in `keep`, then
    `forget` its spec: last, so an interrupted delete can simply be run again.
    NotFound(`not_found`) when neither the store nor AWS knows the owner.
    `keep_image_repository` leaves its ECR repository (and the images in it) where it is."""
    if keep_image_repository:
        kinds = tuple(k for k in kinds if k is not EcrRepository)
    resources = [r for r in find_owned(clients, owner, kinds) if r.id not in keep]
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
    keep_volumes: Iterable[str] | None = None,
    keep_image_repository: bool = False,
    on_step: OnStep | None = None,
) -> Plan:
    """List (and with `yes` delete) the cluster's resources, then its state-store entry.
    Volumes whose IDs are in `keep_volumes` stay (by default: the retained ones, see
    `escala.ops.cluster_volumes.volumes_to_keep`).

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
    if keep_volumes is None:
        keep_volumes = (k.volume.id for k in volumes_to_keep(clients, cluster_name))
    return delete_owner(
        clients,
        cluster_name,
        yes=yes,
        on_step=on_step,
        in_store=in_store,
        keep=frozenset(keep_volumes),
        forget=lambda: store.delete_cluster(cluster_name),
        keep_image_repository=keep_image_repository,
        not_found=f"cluster {cluster_name!r}: not in state store {store.url} and no AWS "
        f"resource in {clients.region} is tagged as its own (see `escala get clusters`)",
    )
