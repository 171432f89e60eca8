"""`update cluster`: plan the AWS resources the stored spec needs, apply them with yes."""

import yaml

from escala.api import Cluster
from escala.bootstrap.master_files import publish_master_files
from escala.bootstrap.secrets import ensure_cluster_secrets
from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.launch_template import LaunchTemplate
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import csi_volume_tags
from escala.cloud.aws.zones import check_zones
from escala.errors import UsageError
from escala.kube.addons import storage_addons
from escala.model.cluster import build_tasks
from escala.reconcile.engine import Apply, DryRun, OnStep, run
from escala.reconcile.plan import Plan
from escala.state import StateStore

SSH_PUBLIC_KEY = "pki/ssh/public/admin"


def storage_manifest(cluster: Cluster) -> bytes:
    """The EBS CSI driver and StorageClasses, which the founding master applies at boot."""
    volume_tags = csi_volume_tags(cluster.name)
    objects = storage_addons(cluster.name, cluster.spec.region, volume_tags)
    return yaml.safe_dump_all(objects, sort_keys=False).encode()


def check_region(clients: ClientFactory, region: str | None, cluster_name: str) -> None:
    if region and clients.region != region:
        raise UsageError(
            f"cluster {cluster_name} lives in {region} but the AWS clients use {clients.region}; "
            f"set AWS_DEFAULT_REGION={region}"
        )


def update_cluster(
    store: StateStore,
    cluster_name: str,
    clients: ClientFactory,
    *,
    yes: bool,
    on_step: OnStep | None = None,
) -> Plan:
    """Read the completed spec and instance groups, plan, and apply only when `yes`.

    Idempotent: a second run returns an empty plan ("No changes need to be applied"),
    and a run interrupted halfway is finished by the next one.
    """
    cluster = store.get_cluster(cluster_name, completed=True)
    check_region(clients, cluster.spec.region, cluster_name)
    check_zones(
        clients,
        [s.zone for s in cluster.spec.subnets],
        f"cluster {cluster_name}: spec.subnets",
        f"; fix it with `escala edit cluster {cluster_name}`",
    )
    groups = store.list_instance_groups(cluster_name)
    public_key = store.read_secret(cluster_name, SSH_PUBLIC_KEY)
    tasks = build_tasks(cluster, groups, public_key.decode() if public_key else None)
    if yes:  # the boot scripts of the instances about to launch fetch these
        ensure_cluster_secrets(store, cluster)
        publish_master_files(store, cluster.name, storage_manifest(cluster))
    target = Apply(clients) if yes else DryRun()
    prune = (AutoscalingGroup, LaunchTemplate)  # of instance groups no longer in the spec
    return run(cluster_name, tasks.values(), clients, target, prune=prune, on_step=on_step)
