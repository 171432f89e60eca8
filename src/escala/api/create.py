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
    NatMode,
    Networking,
    ObjectMeta,
    Role,
    Subnet,
    SubnetType,
    Topology,
    TopologySpec,
)
from escala.api.validation import KUBENET_PRIVATE

BASTION_GROUP = "bastions"  # kops's name for the bastion instance group


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
    networking: Networking | None = None  # None: default_networking(topology)
    authorization: Authorization = Authorization.rbac
    network_cidr: str | None = None
    image: str | None = None
    admin_access: list[str] = dataclasses.field(default_factory=list)
    ssh_access: list[str] = dataclasses.field(default_factory=list)
    allow_single_master: bool = False
    topology: Topology = Topology.public
    nat: NatMode | None = None
    bastion: bool = False


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


def topology_flag_problems(options: CreateClusterOptions) -> list[str]:
    """`--nat` and `--bastion` only mean something in a private topology, and kubenet
    cannot route one (escala.api.validation.KUBENET_PRIVATE says why)."""
    out = []
    if options.topology is Topology.private and options.networking is Networking.kubenet:
        out.append(
            f"--networking: {KUBENET_PRIVATE}. Use --networking calico or cilium (no VPC "
            "routes), or --topology public"
        )
    if options.topology is Topology.public:
        if options.nat is not None:
            out.append(
                f"--nat {options.nat}: NAT gateways give private subnets their way out, and a "
                "public topology has none; add --topology private, or leave --nat out"
            )
        if options.bastion:
            out.append(
                "--bastion: a bastion is the SSH way in to machines in private subnets; add "
                "--topology private, or leave --bastion out (public machines take SSH from "
                "--ssh-access directly)"
            )
    return out


def default_networking(topology: Topology) -> Networking:
    """kubenet, kops's default, where it can work: it cannot route a private topology, so
    that one defaults to calico."""
    return Networking.kubenet if topology is Topology.public else Networking.calico


def utility_subnet_name(zone: str) -> str:
    """kops's name for a zone's utility subnet."""
    return f"utility-{zone}"


def _subnets(zones: list[str], topology: Topology) -> list[Subnet]:
    """A public subnet per zone; in the private topology a private subnet per zone (named
    after it, where the machines go) and a utility one (kops's layout)."""
    if topology is Topology.public:
        return [Subnet(name=zone, zone=zone) for zone in zones]
    private = [Subnet(name=zone, zone=zone, type=SubnetType.private) for zone in zones]
    utility = [
        Subnet(name=utility_subnet_name(zone), zone=zone, type=SubnetType.utility) for zone in zones
    ]
    return private + utility


def _bastion_group(zones: list[str], image: str | None) -> InstanceGroup:
    """One small machine in the utility subnets (kops's `bastions` group)."""
    return InstanceGroup(
        metadata=ObjectMeta(name=BASTION_GROUP),
        spec=InstanceGroupSpec(
            role=Role.bastion,
            min_size=1,
            max_size=1,
            subnets=[utility_subnet_name(zone) for zone in zones],
            image=image,
        ),
    )


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
    """The user's Cluster (its subnets as `_subnets` lays them out) and its groups: a
    master group per master zone, one `nodes` group across every zone (one node per zone
    by default) and, with `--bastion`, the bastion group."""
    zones = list(dict.fromkeys([*options.zones, *options.master_zones]))
    topology = None  # public; a private one's NAT mode is defaulted with the rest
    if options.topology is Topology.private:
        topology = TopologySpec(masters=Topology.private, nodes=Topology.private, nat=options.nat)
    cluster = Cluster(
        metadata=ObjectMeta(name=options.name),
        spec=ClusterSpec(
            kubernetes_version=options.kubernetes_version,
            networking=options.networking or default_networking(options.topology),
            authorization=options.authorization,
            network_cidr=options.network_cidr,
            subnets=_subnets(zones, options.topology),
            topology=topology,
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
    bastion = [_bastion_group(zones, options.image)] if options.bastion else []
    return cluster, [*_master_groups(options), nodes, *bastion]
