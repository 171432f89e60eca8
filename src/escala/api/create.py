"""The Cluster and InstanceGroups that `escala create cluster`'s flags describe.

Pure, like kops's `create_cluster.go` building its objects before anything is written:
the user's spec comes out of here, defaults and validation come after.
"""

import dataclasses
import re
from collections import Counter

from escala.api.types import (
    Authorization,
    Cluster,
    ClusterSpec,
    InstanceGroup,
    InstanceGroupSpec,
    Networking,
    ObjectMeta,
    Role,
    Subnet,
)


@dataclasses.dataclass
class CreateClusterOptions:
    """Flags of `escala create cluster`, spelled as in kops."""

    name: str
    zones: list[str]
    master_zones: list[str] = dataclasses.field(default_factory=list)
    master_count: int | None = None
    master_size: str | None = None
    node_count: int | None = None
    node_size: str | None = None
    kubernetes_version: str | None = None
    networking: Networking = Networking.kubenet
    authorization: Authorization = Authorization.rbac
    network_cidr: str | None = None
    image: str | None = None
    admin_access: list[str] = dataclasses.field(default_factory=list)
    ssh_access: list[str] = dataclasses.field(default_factory=list)
    allow_single_master: bool = False


_ZONE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+[a-z]$")


def zone_flag_problems(options: CreateClusterOptions) -> list[str]:
    """What is wrong with `--zones` / `--master-zones` themselves, named by flag: a zone
    must be a region plus a letter, and all of them in one region (the cluster's)."""
    out = []
    for flag, zones in (("--zones", options.zones), ("--master-zones", options.master_zones)):
        bad = [z for z in zones if not _ZONE.match(z)]
        if bad:
            names = ", ".join(repr(z) for z in bad)
            out.append(
                f"{flag}: {names} {'is not a zone name' if len(bad) == 1 else 'are not zone names'}"
                "; a zone is its region plus a letter, e.g. eu-west-1a"
            )
    regions = sorted({z[:-1] for z in [*options.zones, *options.master_zones] if _ZONE.match(z)})
    if len(regions) > 1:
        out.append(
            f"--zones: the zones are in {len(regions)} regions ({', '.join(regions)}); a "
            "cluster lives in one region, so give zones of one of them"
        )
    return out


def _master_groups(options: CreateClusterOptions) -> list[InstanceGroup]:
    """One group per master: `master-<zone>`, then `master-<zone>-2` if a zone repeats
    (which validation refuses, with the reason)."""
    zones = options.master_zones or options.zones[: options.master_count or 3]
    count = options.master_count or len(zones)
    seen: Counter[str] = Counter()
    groups = []
    for i in range(count):
        zone = zones[i % len(zones)] if zones else ""
        seen[zone] += 1
        suffix = "" if seen[zone] == 1 else f"-{seen[zone]}"
        groups.append(
            InstanceGroup(
                metadata=ObjectMeta(name=f"master-{zone}{suffix}"),
                spec=InstanceGroupSpec(
                    role=Role.master,
                    machine_type=options.master_size,
                    min_size=1,
                    max_size=1,
                    subnets=[zone],
                    image=options.image,
                ),
            )
        )
    return groups


def build_cluster(options: CreateClusterOptions) -> tuple[Cluster, list[InstanceGroup]]:
    """The user's Cluster (one public subnet per zone) and its groups: a master group per
    master zone and one `nodes` group across every zone (one node per zone by default)."""
    zones = list(dict.fromkeys([*options.zones, *options.master_zones]))
    cluster = Cluster(
        metadata=ObjectMeta(name=options.name),
        spec=ClusterSpec(
            kubernetes_version=options.kubernetes_version,
            networking=options.networking,
            authorization=options.authorization,
            network_cidr=options.network_cidr,
            subnets=[Subnet(name=zone, zone=zone) for zone in zones],
            kubernetes_api_access=options.admin_access,
            ssh_access=options.ssh_access,
            allow_single_master=options.allow_single_master,
        ),
    )
    node_count = options.node_count if options.node_count is not None else len(options.zones)
    nodes = InstanceGroup(
        metadata=ObjectMeta(name="nodes"),
        spec=InstanceGroupSpec(
            role=Role.node,
            machine_type=options.node_size,
            min_size=node_count,
            max_size=node_count,
            subnets=list(options.zones),
            image=options.image,
        ),
    )
    return cluster, [*_master_groups(options), nodes]
