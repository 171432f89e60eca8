"""The completed spec: what the user wrote, with every default filled in.

Pure functions, like kops's populate step: `<cluster>/config` keeps the user's words,
`<cluster>/cluster-completed.spec` and the stored instance groups are what this module
returns, and every other part of escala reads only those. Values the user set are never
overwritten.

Image format (the contract with the launch-template task): `ami-<hex>`, or
`<owner account>/<AMI name pattern>` where the pattern may contain `*`; the newest AMI
matching it in the cluster's region is used (EC2 DescribeImages name filter).
"""

import contextlib
import ipaddress
import math
import re

from escala.api.types import (
    CLUSTER_LABEL,
    Cluster,
    EtcdCluster,
    EtcdMember,
    InstanceGroup,
    MixedInstancesPolicy,
    NatMode,
    Role,
    SpotAllocationStrategy,
    Subnet,
    SubnetType,
    TopologySpec,
)

KUBERNETES_VERSION = "1.33.5"
NETWORK_CIDR = "172.20.0.0/16"
POD_CIDR = "100.96.0.0/11"
SERVICE_CLUSTER_IP_RANGE = "100.64.0.0/13"
OPEN_TO_THE_WORLD = "0.0.0.0/0"
MACHINE_TYPE = "t3.medium"
# A bastion only forwards SSH (kops's default bastion is as small).
BASTION_MACHINE_TYPE = "t3.micro"
NODE_COUNT = 2
ROOT_VOLUME_TYPE = "gp3"
ROOT_VOLUME_SIZE = {Role.master: 64, Role.node: 128, Role.bastion: 32}
ETCD_VOLUME_SIZE = 20
ETCD_VOLUME_TYPE = "gp3"
ETCD_CLUSTERS = ("main", "events")
# Canonical's account; the `*` picks the newest Ubuntu 24.04 LTS build.
UBUNTU_OWNER = "099720109477"
IMAGE = UBUNTU_OWNER + "/ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{arch}-server-*"
# Graviton families carry a `g` after the generation digit: t4g, m7g, c7gn, r8g.
_ARM_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*\.")


def default_image(machine_type: str) -> str:
    """The Ubuntu 24.04 image pattern for the machine's architecture."""
    return IMAGE.format(arch="arm64" if _ARM_FAMILY.match(machine_type) else "amd64")


def region_of_zones(zones: list[str]) -> str | None:
    """`eu-west-1a` -> `eu-west-1`, from the first zone."""
    for zone in zones:
        if zone[-1:].isalpha():
            return zone[:-1]
    return None


def carve_subnets(network_cidr: str, subnets: list[Subnet]) -> list[Subnet]:
    """Give each subnet without a CIDR one carved from the network, kops-style.

    A /16 with up to 8 zones gets /19s (172.20.0.0/19, 172.20.32.0/19, ...); more zones
    get smaller blocks. Blocks the user already gave are skipped. An invalid network is
    left to validation.
    """
    try:
        network = ipaddress.ip_network(network_cidr)
    except ValueError:
        return subnets
    extra_bits = max(3, math.ceil(math.log2(max(len(subnets), 1))))
    taken = []
    for subnet in subnets:
        if subnet.cidr:
            with contextlib.suppress(ValueError):
                taken.append(ipaddress.ip_network(subnet.cidr, strict=False))
    free = (
        block
        for block in network.subnets(prefixlen_diff=min(extra_bits, network.max_prefixlen))
        if not any(block.overlaps(t) for t in taken)  # type: ignore[arg-type]
    )
    out = []
    for subnet in subnets:
        if subnet.cidr is None:
            block = next(free, None)
            subnet = subnet.model_copy(update={"cidr": str(block) if block else None})
        out.append(subnet)
    return out


def _member_name(group: InstanceGroup, zone_of: dict[str, str], used: set[str]) -> str:
    """kops names a member after its zone's letter (`a`), else after its group."""
    zone = zone_of.get(group.spec.subnets[0], "") if group.spec.subnets else ""
    letter = zone[-1:]
    return letter if letter and letter not in used else group.name


def etcd_clusters(cluster: Cluster, groups: list[InstanceGroup]) -> list[EtcdCluster]:
    """main + events, one member per master group, each on an encrypted gp3 volume.

    Existing clusters and members are kept; missing volume settings are filled.
    """
    zone_of = {s.name: s.zone for s in cluster.spec.subnets}
    masters = [g for g in groups if g.spec.role is Role.master]
    existing = {e.name: e for e in cluster.spec.etcd_clusters}
    out = []
    for name in [*ETCD_CLUSTERS, *(n for n in existing if n not in ETCD_CLUSTERS)]:
        etcd = existing.get(name) or EtcdCluster(name=name)
        members = list(etcd.etcd_members)
        if not members:
            used: set[str] = set()
            for group in masters:
                member_name = _member_name(group, zone_of, used)
                used.add(member_name)
                members.append(EtcdMember(name=member_name, instance_group=group.name))
        members = [
            m.model_copy(
                update={
                    "volume_size": m.volume_size or ETCD_VOLUME_SIZE,
                    "volume_type": m.volume_type or ETCD_VOLUME_TYPE,
                }
            )
            for m in members
        ]
        out.append(etcd.model_copy(update={"etcd_members": members}))
    return out


def complete_topology(topology: TopologySpec | None) -> TopologySpec | None:
    """A private topology egresses through a NAT gateway per zone unless told otherwise."""
    if topology is None or not topology.private or topology.nat is not None:
        return topology
    return topology.model_copy(update={"nat": NatMode.per_zone})


def complete_cluster(
    cluster: Cluster, groups: list[InstanceGroup], state_url: str | None = None
) -> Cluster:
    """The completed Cluster (a copy); `state_url` sets configBase to `<state>/<name>`."""
    spec = cluster.spec
    network_cidr = spec.network_cidr or NETWORK_CIDR
    filled = spec.model_copy(
        update={
            "region": spec.region or region_of_zones([s.zone for s in spec.subnets]),
            "kubernetes_version": spec.kubernetes_version or KUBERNETES_VERSION,
            "network_cidr": network_cidr,
            "pod_cidr": spec.pod_cidr or POD_CIDR,
            "service_cluster_ip_range": spec.service_cluster_ip_range or SERVICE_CLUSTER_IP_RANGE,
            "subnets": carve_subnets(network_cidr, spec.subnets),
            "topology": complete_topology(spec.topology),
            "kubernetes_api_access": spec.kubernetes_api_access or [OPEN_TO_THE_WORLD],
            "ssh_access": spec.ssh_access or [OPEN_TO_THE_WORLD],
            "ssh_key_name": spec.ssh_key_name or f"kubernetes.{cluster.name}",
            "config_base": spec.config_base
            or (f"{state_url.rstrip('/')}/{cluster.name}" if state_url else None),
        }
    )
    done = cluster.model_copy(update={"spec": filled})
    return done.model_copy(
        update={"spec": filled.model_copy(update={"etcd_clusters": etcd_clusters(done, groups)})}
    )


def complete_mixed_instances(
    policy: MixedInstancesPolicy | None, machine_type: str
) -> MixedInstancesPolicy | None:
    """AWS's defaults made explicit (all On-Demand unless said otherwise), the recommended
    Spot allocation strategy, and the group's machine type when no instance is listed."""
    if policy is None:
        return None
    return policy.model_copy(
        update={
            "instances": policy.instances or [machine_type],
            "on_demand_base": policy.on_demand_base or 0,
            "on_demand_above_base": 100
            if policy.on_demand_above_base is None
            else policy.on_demand_above_base,
            "spot_allocation_strategy": policy.spot_allocation_strategy
            or SpotAllocationStrategy.price_capacity_optimized,
        }
    )


def complete_instance_group(
    group: InstanceGroup, cluster: Cluster, machine_type: str = MACHINE_TYPE
) -> InstanceGroup:
    """The completed InstanceGroup (a copy) of `cluster`.

    Masters and bastions default to one machine; nodes to NODE_COUNT across every
    subnet of the cluster a machine may run in (every utility subnet for a bastion).
    """
    spec = group.spec
    size = NODE_COUNT if spec.role is Role.node else 1
    min_size = spec.min_size if spec.min_size is not None else size
    bastion = spec.role is Role.bastion
    machine = spec.machine_type or (BASTION_MACHINE_TYPE if bastion else machine_type)
    subnets = [s.name for s in cluster.spec.subnets if (s.type is SubnetType.utility) is bastion]
    filled = spec.model_copy(
        update={
            "machine_type": machine,
            "min_size": min_size,
            "max_size": spec.max_size if spec.max_size is not None else max(min_size, size),
            "subnets": spec.subnets or subnets,
            "image": spec.image or default_image(machine),
            "root_volume_size": spec.root_volume_size or ROOT_VOLUME_SIZE[spec.role],
            "root_volume_type": spec.root_volume_type or ROOT_VOLUME_TYPE,
            "mixed_instances_policy": complete_mixed_instances(
                spec.mixed_instances_policy, machine
            ),
        }
    )
    labels = {**group.metadata.labels, CLUSTER_LABEL: cluster.name}
    metadata = group.metadata.model_copy(update={"labels": labels})
    return group.model_copy(update={"metadata": metadata, "spec": filled})


def complete(
    cluster: Cluster, groups: list[InstanceGroup], state_url: str | None = None
) -> tuple[Cluster, list[InstanceGroup]]:
    """The completed cluster and instance groups, ready for validation and the model."""
    done = complete_cluster(cluster, groups, state_url)
    return done, [complete_instance_group(g, done) for g in groups]
