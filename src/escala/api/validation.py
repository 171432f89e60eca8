"""Rules that span fields of a completed Cluster and its InstanceGroups.

Modelled on kops's `pkg/apis/kops/validation`: every rule appends a problem prefixed with
the field path it is about, and `validate` raises one SpecInvalid listing all of them, so
the user fixes everything in one go. Pure: no cloud calls, no state store.

Run it on the completed spec (after `escala.api.defaults.complete`), where every field
the rules read has a value.
"""

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable

from escala.api.types import Cluster, InstanceGroup, Networking, Role, SubnetType
from escala.errors import SpecInvalid

# Kubernetes minors escala supports, like kops's window: the last few upstream releases.
MIN_KUBERNETES_MINOR = 29
MAX_KUBERNETES_MINOR = 34
# AWS caps a VPC route table at 50 routes; kubenet needs one route per node (seed 3.4).
KUBENET_MAX_NODES = 50
# kops refuses kubenet in a private topology (create_cluster.go), for the reason
# cloud-provider-aws gives (pkg/providers/v1/aws_routes.go, findRouteTable): its route
# controller writes every node's pod route into the one route table tagged with the
# cluster, and stops at "found multiple matching AWS route tables" when there are more.
KUBENET_PRIVATE = (
    "kubenet routes pods through one VPC route table, a route per node (AWS caps a table at "
    f"{KUBENET_MAX_NODES} routes), and the AWS cloud controller manager that writes them "
    "refuses a cluster with more than one route table; the private topology has a route "
    "table per zone plus the utility subnets' one"
)
ROOT_VOLUME_TYPES = ("gp3", "gp2", "io1", "io2", "st1", "sc1", "standard")

QUORUM = (
    "etcd on the masters commits a write only once a majority (50%+1) agrees: with 2 masters, "
    "losing one leaves half the votes and the cluster stops; an odd number of at least 3 "
    "survives the loss of one"
)

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
_MACHINE_TYPE = re.compile(
    r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal(-\d+xl)?)$"
)
# A web origin as a browser writes it, for the chat's --allow-origin (the chat's own
# check at startup, escala.chat.origins, is the stricter one).
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")
_IMAGE = re.compile(r"^(ami-[0-9a-f]{8,17}|[0-9a-z-]+/\S+)$")
# key[=value]:Effect, as kubectl taint and kops's spec.taints write it
_TAINT = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
    r"(=[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?:(NoSchedule|PreferNoSchedule|NoExecute)$"
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def validate(cluster: Cluster, groups: Iterable[InstanceGroup]) -> None:
    """Raise SpecInvalid listing every problem of the cluster and its groups."""
    found = problems(cluster, list(groups))
    if found:
        raise SpecInvalid(found, f"cluster {cluster.name}")


def problems(cluster: Cluster, groups: list[InstanceGroup]) -> list[str]:
    """Every problem found, each `field.path: what is wrong and how to fix it`."""
    out: list[str] = []
    out += _cluster_name(cluster.name)
    out += _version(cluster.spec.kubernetes_version)
    out += _network(cluster)
    out += _zones(cluster)
    out += _topology(cluster, groups)
    out += _groups(cluster, groups)
    out += _masters(cluster, groups)
    out += _etcd(cluster, groups)
    return out


def is_machine_type(text: str) -> bool:
    """Shaped like an EC2 instance type (family, generation, size); not whether it exists."""
    return bool(_MACHINE_TYPE.match(text))


def is_gossip(cluster_name: str) -> bool:
    """A name ending in .k8s.local needs no DNS zone: the nodes find each other by gossip."""
    return cluster_name.endswith(".k8s.local")


def _cluster_name(name: str) -> list[str]:
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_DNS_LABEL.match(x) for x in labels):
        return [
            f"metadata.name: {name!r} must be a DNS name of lowercase letters, digits, '-' "
            "and at least one dot, e.g. proyecto.k8s.local (.k8s.local = gossip, no DNS zone "
            "needed) or k8s.example.com (needs a Route 53 zone)"
        ]
    return []


def _version(version: str | None) -> list[str]:
    path = "spec.kubernetesVersion"
    match = _VERSION.match(version or "")
    if not match:
        return [f"{path}: {version!r} is not a version like 1.31.4"]
    major, minor = int(match[1]), int(match[2])
    if major != 1 or not MIN_KUBERNETES_MINOR <= minor <= MAX_KUBERNETES_MINOR:
        return [
            f"{path}: {version} is not supported; use 1.{MIN_KUBERNETES_MINOR}.x to "
            f"1.{MAX_KUBERNETES_MINOR}.x"
        ]
    return []


def _cidr(value: str | None, path: str, out: list[str]) -> Network | None:
    if not value:
        out.append(f"{path}: missing; give a CIDR such as 172.20.0.0/16")
        return None
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as e:
        out.append(f"{path}: {value!r} is not a valid CIDR ({e})")
        return None


def _overlap(a: Network | None, b: Network | None) -> bool:
    return a is not None and b is not None and a.version == b.version and a.overlaps(b)


def _inside(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _network(cluster: Cluster) -> list[str]:
    spec, out = cluster.spec, []
    ranges = {
        "spec.networkCIDR": _cidr(spec.network_cidr, "spec.networkCIDR", out),
        "spec.podCIDR": _cidr(spec.pod_cidr, "spec.podCIDR", out),
        "spec.serviceClusterIPRange": _cidr(
            spec.service_cluster_ip_range, "spec.serviceClusterIPRange", out
        ),
    }
    names = list(ranges)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if _overlap(ranges[a], ranges[b]):
                out.append(f"{b}: {ranges[b]} overlaps {a} {ranges[a]}; pick disjoint ranges")
    network = ranges["spec.networkCIDR"]
    subnets: list[tuple[str, Network]] = []
    for i, subnet in enumerate(spec.subnets):
        path = f"spec.subnets[{i}].cidr"
        cidr = _cidr(subnet.cidr, path, out)
        if cidr is None:
            continue
        if network is not None and not _inside(cidr, network):
            out.append(f"{path}: {cidr} is not inside spec.networkCIDR {network}")
        for other_path, other in subnets:
            if _overlap(cidr, other):
                out.append(f"{path}: {cidr} overlaps {other_path} {other}")
        subnets.append((path, cidr))
    for field, values in (
        ("kubernetesApiAccess", spec.kubernetes_api_access),
        ("sshAccess", spec.ssh_access),
    ):
        if not values:
            out.append(f"spec.{field}: give at least one CIDR allowed in, e.g. 203.0.113.0/24")
        for i, value in enumerate(values):
            _cidr(value, f"spec.{field}[{i}]", out)
    return out


def zone_region(zone: str) -> str:
    """`eu-west-1a` -> `eu-west-1`."""
    return zone[:-1] if zone[-1:].isalpha() else zone


def _zones(cluster: Cluster) -> list[str]:
    spec, out = cluster.spec, []
    if not spec.region or not _REGION.match(spec.region):
        out.append(f"spec.region: {spec.region!r} is not an AWS region such as eu-west-1")
    if not spec.subnets:
        out.append("spec.subnets: the cluster needs at least one zone (--zones eu-west-1a,...)")
    for i, subnet in enumerate(spec.subnets):
        if zone_region(subnet.zone) != spec.region or not subnet.zone[-1:].isalpha():
            out.append(
                f"spec.subnets[{i}].zone: {subnet.zone!r} is not a zone of region "
                f"{spec.region} (zones are the region plus a letter, e.g. {spec.region}a)"
            )
    for name, count in Counter(s.name for s in spec.subnets).items():
        if count > 1:
            out.append(f"spec.subnets: subnet name {name!r} is used {count} times")
    return out


def _groups(cluster: Cluster, groups: list[InstanceGroup]) -> list[str]:
    out: list[str] = []
    subnet_names = {s.name for s in cluster.spec.subnets}
    for name, count in Counter(g.name for g in groups).items():
        if count > 1:
            out.append(f"instancegroup/{name}: defined {count} times")
    for group in groups:
        path, spec = f"instancegroup/{group.name}", group.spec
        if not _DNS_LABEL.match(group.name):
            out.append(f"{path}.metadata.name: must be lowercase letters, digits and '-'")
        if spec.min_size is None or spec.max_size is None:
            out.append(f"{path}.spec.minSize: minSize and maxSize must both be set")
        elif spec.max_size < spec.min_size:
            out.append(f"{path}.spec.maxSize: {spec.max_size} must be >= minSize ({spec.min_size})")
        if not spec.subnets:
            out.append(f"{path}.spec.subnets: give at least one of {sorted(subnet_names)}")
        for i, subnet in enumerate(spec.subnets):
            if subnet not in subnet_names:
                out.append(
                    f"{path}.spec.subnets[{i}]: subnet {subnet!r} does not exist in the "
                    f"cluster (it has {', '.join(sorted(subnet_names)) or 'none'})"
                )
        if not _MACHINE_TYPE.match(spec.machine_type or ""):
            out.append(
                f"{path}.spec.machineType: {spec.machine_type!r} is not an EC2 instance type "
                "such as t3.medium or m7g.large"
            )
        if not _IMAGE.match(spec.image or ""):
            out.append(
                f"{path}.spec.image: {spec.image!r} must be an AMI ID (ami-...) or "
                "<owner>/<name pattern>"
            )
        if spec.root_volume_type not in ROOT_VOLUME_TYPES:
            out.append(
                f"{path}.spec.rootVolumeType: {spec.root_volume_type!r} must be one of "
                f"{', '.join(ROOT_VOLUME_TYPES)}"
            )
        if spec.root_volume_size is None or spec.root_volume_size < 8:
            out.append(f"{path}.spec.rootVolumeSize: at least 8 GiB")
        out += _taints(path, spec.taints)
        out += _mixed_instances(path, group)
    if cluster.spec.networking is Networking.kubenet:
        total = sum(g.spec.max_size or 0 for g in groups if g.spec.role is not Role.bastion)
        if total > KUBENET_MAX_NODES:
            out.append(
                f"spec.networking: kubenet puts one route per node in the VPC route table, "
                f"which AWS caps at {KUBENET_MAX_NODES}; the instance groups allow {total} "
                "machines (sum of maxSize): use --networking calico or cilium, or lower maxSize"
            )
    return out


def _topology(cluster: Cluster, groups: list[InstanceGroup]) -> list[str]:
    """kops's private topology: machines in Private subnets, a Utility subnet in each of
    their zones for the load balancer and the NAT gateway, a bastion only there."""
    spec, out = cluster.spec, []
    topology = spec.topology
    if topology is not None and topology.masters is not topology.nodes:
        out.append(
            f"spec.topology.nodes: {topology.nodes} while spec.topology.masters is "
            f"{topology.masters}; escala puts both in one topology, so set them alike"
        )
    private = cluster.private
    if not private and topology is not None and topology.nat is not None:
        out.append(
            f"spec.topology.nat: {topology.nat} NAT gateways serve private subnets and this "
            "topology is public; set spec.topology.masters and nodes to private (--topology "
            "private), or remove nat"
        )
    if private and spec.networking is Networking.kubenet:
        out.append(
            f"spec.networking: {KUBENET_PRIVATE}. Use --networking calico or cilium (no VPC "
            "routes), or --topology public"
        )
    zones_with_utility = {s.zone for s in spec.subnets if s.type is SubnetType.utility}
    for i, subnet in enumerate(spec.subnets):
        path = f"spec.subnets[{i}]"
        if private and subnet.type is SubnetType.public:
            out.append(
                f"{path}.type: a Public subnet in a private topology; machines go in Private "
                "subnets and load balancers in Utility ones, so make it one of those"
            )
        elif not private and subnet.type is not SubnetType.public:
            out.append(
                f"{path}.type: {subnet.type} subnets belong to the private topology; set "
                "spec.topology (--topology private), or make the subnet Public"
            )
        elif subnet.type is SubnetType.private and subnet.zone not in zones_with_utility:
            out.append(
                f"{path}: zone {subnet.zone} has no Utility subnet, where its NAT gateway and "
                "the load balancer go; add one (type: Utility) in that zone"
            )
    kinds = {s.name: s.type for s in spec.subnets}
    for group in groups:
        bastion = group.spec.role is Role.bastion
        path = f"instancegroup/{group.name}.spec"
        if bastion and not private:
            out.append(
                f"{path}.role: a Bastion is the SSH way in to a private topology, and this "
                "one is public; delete the group, or set spec.topology (--topology private)"
            )
            continue
        for i, name in enumerate(group.spec.subnets):
            utility = kinds.get(name) is SubnetType.utility
            if name in kinds and bastion and not utility:
                out.append(f"{path}.subnets[{i}]: a bastion lives in Utility subnets, not {name}")
            elif not bastion and utility:
                out.append(
                    f"{path}.subnets[{i}]: {name} is a Utility subnet, for load balancers and "
                    "NAT gateways only; put the group in the zone's Private subnet"
                )
    return out


def _taints(path: str, taints: list[str]) -> list[str]:
    return [
        f"{path}.spec.taints[{i}]: {taint!r} is not key[=value]:Effect with Effect one of "
        "NoSchedule, PreferNoSchedule, NoExecute (e.g. dedicated=chat:NoSchedule)"
        for i, taint in enumerate(taints)
        if not _TAINT.match(taint)
    ]


def _mixed_instances(path: str, group: InstanceGroup) -> list[str]:
    policy = group.spec.mixed_instances_policy
    if policy is None:
        return []
    field = f"{path}.spec.mixedInstancesPolicy"
    if group.spec.role is Role.master:
        return [
            f"{field}: only node groups may mix instance types or use Spot: a master holds an "
            "etcd member, and a Spot interruption would cost the cluster a vote; remove it"
        ]
    out = []
    if not policy.instances:
        out.append(f"{field}.instances: list at least one instance type, e.g. [m7i.large]")
    for i, instance in enumerate(policy.instances):
        if not _MACHINE_TYPE.match(instance):
            out.append(
                f"{field}.instances[{i}]: {instance!r} is not an EC2 instance type such as "
                "m7i.large"
            )
    for instance, count in Counter(policy.instances).items():
        if count > 1:
            out.append(f"{field}.instances: {instance} is listed {count} times; list it once")
    return out


def _masters(cluster: Cluster, groups: list[InstanceGroup]) -> list[str]:
    out: list[str] = []
    masters = [g for g in groups if g.spec.role is Role.master]
    zone_of = {s.name: s.zone for s in cluster.spec.subnets}
    count = 0
    per_zone: Counter[str] = Counter()
    for group in masters:
        path, spec = f"instancegroup/{group.name}.spec", group.spec
        if len(spec.subnets) != 1:
            out.append(f"{path}.subnets: a master group lives in exactly one zone's subnet")
        if spec.min_size != spec.max_size:
            out.append(f"{path}.maxSize: a master group is fixed in size; set minSize = maxSize")
        size = spec.max_size or 0
        count += size
        for subnet in spec.subnets[:1]:
            per_zone[zone_of.get(subnet, subnet)] += size
    for zone, n in sorted(per_zone.items()):
        if n > 1:
            out.append(
                f"instancegroups: {n} masters in zone {zone}; put each master in its own zone "
                "(--master-zones) so losing one zone keeps the etcd majority"
            )
    if count == 0:
        out.append("instancegroups: the cluster has no master (role: Master) group")
    elif count == 1 and not cluster.spec.allow_single_master:
        out.append(
            f"instancegroups: 1 master is not highly available: {QUORUM}. Use "
            "--master-count 3, or --allow-single-master (spec.allowSingleMaster) for a dev cluster"
        )
    elif count > 1 and (count % 2 == 0 or count < 3):
        out.append(f"instancegroups: {count} masters refused: {QUORUM}. Use 3 or 5 masters")
    return out


def _etcd(cluster: Cluster, groups: list[InstanceGroup]) -> list[str]:
    out: list[str] = []
    masters = {g.name for g in groups if g.spec.role is Role.master}
    names = [e.name for e in cluster.spec.etcd_clusters]
    for required in ("main", "events"):
        if required not in names:
            out.append(f"spec.etcdClusters: missing the {required!r} etcd cluster")
    for i, etcd in enumerate(cluster.spec.etcd_clusters):
        used = [m.instance_group for m in etcd.etcd_members]
        for j, member in enumerate(etcd.etcd_members):
            if member.instance_group not in masters:
                out.append(
                    f"spec.etcdClusters[{i}].etcdMembers[{j}].instanceGroup: "
                    f"{member.instance_group!r} is not a master instance group"
                )
        for missing in sorted(masters - set(used)):
            out.append(f"spec.etcdClusters[{i}].etcdMembers: no member on master group {missing}")
    return out
