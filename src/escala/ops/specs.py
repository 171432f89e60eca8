"""Writing specs to the state store: create, replace, and change one instance group.

Every path here completes the spec (escala.api.defaults), validates the whole cluster
(escala.api.validation) and only then writes, so a bad input changes nothing. The user's
Cluster goes to `<cluster>/config`, the completed one to `cluster-completed.spec`, and
instance groups are stored completed.
"""

import copy
from collections.abc import Callable
from typing import Any

import yaml
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from escala.api import Cluster, InstanceGroup, dump_document, parse_document
from escala.api.create import CreateClusterOptions, build_cluster
from escala.api.defaults import complete, complete_cluster, complete_instance_group
from escala.api.validation import validate
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.zones import available_zones, check_zones
from escala.errors import AlreadyExists, CannotChangeField, NotFound, SpecInvalid, UsageError
from escala.ops.update import SSH_PUBLIC_KEY
from escala.ops.upgrade import check_upgrade
from escala.state import StateStore

# Fields fixed once the cluster exists: changing them would mean a new VPC or etcd data.
IMMUTABLE = {
    "spec.region": lambda c: c.spec.region,
    "spec.networkCIDR": lambda c: c.spec.network_cidr,
    "spec.nonMasqueradeCIDR": lambda c: c.spec.non_masquerade_cidr,
    "spec.podCIDR": lambda c: c.spec.pod_cidr,
    "spec.serviceClusterIPRange": lambda c: c.spec.service_cluster_ip_range,
    "spec.subnets": lambda c: {s.name: (s.zone, s.cidr) for s in c.spec.subnets},
    # Moving machines between public and private subnets, or NAT gateways between zones,
    # is a new network; `update` never deletes a NAT gateway the graph no longer has.
    "spec.topology": lambda c: f"private, nat {c.spec.topology.nat}" if c.private else "public",
}


def check_ssh_public_key(key: bytes, source: str) -> bytes:
    """Accept one OpenSSH public key (what EC2 ImportKeyPair takes); refuse anything
    else, a private key above all, so it is never stored."""
    text = key.decode(errors="replace").strip()
    try:
        if "PRIVATE KEY" in text or "\n" in text:
            raise ValueError("not a single public key line")
        serialization.load_ssh_public_key(text.encode())
    except (ValueError, UnsupportedAlgorithm) as e:
        raise UsageError(
            f"--ssh-public-key: {source} is not an OpenSSH public key (ssh-ed25519 AAAA...); "
            "give the .pub file, e.g. ~/.ssh/id_ed25519.pub"
        ) from e
    return text.encode() + b"\n"


DEFAULT_ZONE_COUNT = 3  # one master per zone: the smallest HA control plane


def default_zones(cloud: ClientFactory) -> list[str]:
    """The region's first DEFAULT_ZONE_COUNT available zones (fewer if it has fewer)."""
    zones = available_zones(cloud)[:DEFAULT_ZONE_COUNT]
    if not zones:
        raise UsageError(
            f"--zones: region {cloud.region} reports no available zone; pass --zones "
            "(e.g. --zones eu-west-1a,eu-west-1b,eu-west-1c) or set AWS_DEFAULT_REGION"
        )
    return zones


def plan_cluster(
    options: CreateClusterOptions, state_url: str
) -> tuple[Cluster, Cluster, list[InstanceGroup]]:
    """The user's Cluster, the completed one and the completed groups; raises SpecInvalid."""
    cluster, groups = build_cluster(options)
    completed, completed_groups = complete(cluster, groups, state_url)
    validate(completed, completed_groups)
    return cluster, completed, completed_groups


def create_cluster(
    store: StateStore,
    options: CreateClusterOptions,
    ssh_public_key: bytes | None,
    clients_for: Callable[[str], ClientFactory],
) -> tuple[Cluster, list[InstanceGroup]]:
    """Validate, check the zones exist in the region (`clients_for(region)` asks AWS),
    then write the cluster, its groups and SSH key; the config goes last, so a cluster
    appears in `get clusters` only once all of it is stored."""
    cluster, completed, groups = plan_cluster(options, store.url)
    check_zones(clients_for(completed.spec.region), [s.zone for s in completed.spec.subnets])
    if store.has_cluster(cluster.name):
        raise AlreadyExists(
            f"--name: cluster {cluster.name!r} already exists in {store.url}; change it with "
            "`escala edit instancegroup` / `escala replace -f`, or delete it first"
        )
    for group in groups:
        store.put_instance_group(cluster.name, group)
    if ssh_public_key is not None:
        store.write_secret(cluster.name, SSH_PUBLIC_KEY, ssh_public_key)
    store.put_cluster(cluster, completed)
    return completed, groups


def _check_immutable(old: Cluster, new: Cluster) -> None:
    for field, value in IMMUTABLE.items():
        before, after = value(old), value(new)
        if field == "spec.subnets":
            changed = [n for n in before if n in after and before[n] != after[n]]
            if changed:
                raise CannotChangeField(
                    f"{field}: the zone and CIDR of existing subnet {changed[0]!r} cannot change "
                    f"({before[changed[0]]} -> {after[changed[0]]}); add a new subnet instead"
                )
        elif before != after:
            raise CannotChangeField(
                f"{field}: cannot change once the cluster exists ({before} -> {after}); "
                "create a new cluster for a different network"
            )


def save_cluster(store: StateStore, cluster: Cluster, cluster_name: str | None = None) -> Cluster:
    """Replace an existing cluster's user spec and recompute its completed spec."""
    if cluster_name and cluster.name != cluster_name:
        raise CannotChangeField(
            f"metadata.name: cannot rename cluster {cluster_name!r} to {cluster.name!r}"
        )
    old = store.get_cluster(cluster.name, completed=True)
    groups = store.list_instance_groups(cluster.name)
    completed = complete_cluster(cluster, groups, _state_url(old))
    _check_immutable(old, completed)
    if old.spec.kubernetes_version and completed.spec.kubernetes_version:
        # an edit is an upgrade too: kubeadm's one-minor-at-a-time rule holds here as well
        check_upgrade(
            old.spec.kubernetes_version, completed.spec.kubernetes_version, "spec.kubernetesVersion"
        )
    validate(completed, groups)
    store.put_cluster(cluster, completed)
    return completed


def _state_url(cluster: Cluster) -> str | None:
    base = cluster.spec.config_base
    return base[: -len(cluster.name) - 1] if base and base.endswith("/" + cluster.name) else None


def save_instance_group(
    store: StateStore,
    cluster_name: str,
    group: InstanceGroup,
    *,
    create: bool = False,
    dry_run: bool = False,
) -> InstanceGroup:
    """Complete and validate one group within its cluster, then store it (not `dry_run`).

    The group must exist unless `create`; its role and cluster cannot change.
    """
    if group.cluster_name not in (None, cluster_name):
        raise CannotChangeField(
            f"metadata.labels.escala.io/cluster: instance group {group.name!r} belongs to "
            f"{cluster_name!r}, not {group.cluster_name!r}"
        )
    cluster = store.get_cluster(cluster_name, completed=True)
    others = [g for g in store.list_instance_groups(cluster_name) if g.name != group.name]
    try:
        old = store.get_instance_group(cluster_name, group.name)
    except NotFound:
        if not create:
            raise
    else:
        if old.spec.role is not group.spec.role:
            raise CannotChangeField(
                f"instancegroup/{group.name}.spec.role: cannot change {old.spec.role.value} "
                f"to {group.spec.role.value}; create a new group instead"
            )
    done = complete_instance_group(group, cluster)
    validate(cluster, [*others, done])
    if not dry_run:
        store.put_instance_group(cluster_name, done)
    return done


def replace(
    store: StateStore,
    documents: list[Cluster | InstanceGroup],
    cluster_name: str | None,
    *,
    force: bool = False,
) -> list[str]:
    """`escala replace -f`: apply every document of a file; returns what was replaced.

    The Cluster goes first, then each group; each is validated before it is written.
    """
    clusters = [d for d in documents if isinstance(d, Cluster)]
    if len(clusters) > 1:
        raise UsageError("-f: give at most one Cluster document per file")
    name = cluster_name or (clusters[0].name if clusters else None)
    if name is None:
        found = {g.cluster_name for g in documents if isinstance(g, InstanceGroup)} - {None}
        if len(found) != 1:
            raise UsageError(
                "--name: say which cluster the instance groups belong to (or label them "
                "escala.io/cluster)"
            )
        name = found.pop()
    done: list[str] = []
    if clusters:
        save_cluster(store, clusters[0], name)
        done.append(f"cluster/{clusters[0].name}")
    for doc in documents:
        if isinstance(doc, InstanceGroup):
            save_instance_group(store, str(name), doc, create=force)
            done.append(f"instancegroup/{doc.name}")
    return done


def assign_fields(data: dict[str, Any], assignments: list[str], subject: str) -> dict[str, Any]:
    """`spec.maxSize=5 spec.subnets=[eu-west-1a]` applied to a document's wire form (a
    copy), values read as YAML. Raises SpecInvalid naming the field when a path or value
    does not fit."""
    data = copy.deepcopy(data)
    for assignment in assignments:
        path, sep, raw = assignment.partition("=")
        if not sep or not path.startswith("spec.") or path == "spec.":
            raise UsageError(
                f"{assignment!r}: write FIELD=VALUE with a field under spec, e.g. spec.maxSize=5"
            )
        *parents, leaf = path.split(".")
        target = data
        for key in parents:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                raise SpecInvalid([f"{path}: {key} is not an object"], subject)
        try:
            target[leaf] = yaml.safe_load(raw) if raw else None
        except yaml.YAMLError as e:
            raise SpecInvalid([f"{path}: {raw!r} is not a value ({e})"], subject) from e
    return data


def set_fields(group: InstanceGroup, assignments: list[str]) -> InstanceGroup:
    """`escala set instancegroup`'s assignments applied to a group (see assign_fields)."""
    subject = f"instancegroup/{group.name}"
    result = parse_document(assign_fields(dump_document(group), assignments, subject), subject)
    assert isinstance(result, InstanceGroup)
    return result
