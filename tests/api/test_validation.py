"""Each validation rule, on completed specs: the problem names the field and the fix."""

import pytest

from escala.api import Cluster, InstanceGroup, Subnet
from escala.api.validation import is_gossip, problems, validate
from escala.errors import SpecInvalid
from tests.api.specs import completed, group


def _edit_cluster(cluster: Cluster, **spec: object) -> Cluster:
    return cluster.model_copy(update={"spec": cluster.spec.model_copy(update=spec)})


def _edit_group(groups: list[InstanceGroup], name: str, **spec: object) -> list[InstanceGroup]:
    return [
        g.model_copy(update={"spec": g.spec.model_copy(update=spec)}) if g.name == name else g
        for g in groups
    ]


def _one(found: list[str], field: str) -> str:
    matching = [p for p in found if p.startswith(field)]
    assert len(matching) == 1, found
    return matching[0]


def test_a_valid_ha_cluster_passes() -> None:
    validate(*completed())


@pytest.mark.parametrize("count", [2, 4])
def test_even_master_count_is_refused_with_the_quorum_reason(count: int) -> None:
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"]
    found = problems(*completed(zones=zones, master_zones=zones[:count]))
    message = _one(found, "instancegroups:")
    assert f"{count} masters refused" in message
    assert "50%+1" in message


def test_single_master_needs_the_explicit_flag() -> None:
    found = problems(*completed(master_count=1))
    assert "--allow-single-master" in _one(found, "instancegroups:")
    assert problems(*completed(master_count=1, allow_single_master=True)) == []


def test_two_masters_in_one_zone_are_refused() -> None:
    found = problems(*completed(master_zones=["eu-west-1a", "eu-west-1a", "eu-west-1b"]))
    assert any("2 masters in zone eu-west-1a" in p for p in found), found


def test_zones_must_belong_to_the_region() -> None:
    found = problems(*completed(zones=["eu-west-1a", "eu-west-1b", "us-east-1a"]))
    assert "'us-east-1a' is not a zone of region eu-west-1" in _one(found, "spec.subnets[2].zone")


def test_kubenet_above_50_nodes_is_refused_but_calico_is_fine() -> None:
    found = problems(*completed(node_count=48))
    assert "caps at 50" in _one(found, "spec.networking")
    assert problems(*completed(node_count=48, networking="calico")) == []


def test_overlapping_ranges_are_refused() -> None:
    cluster, groups = completed()
    cluster = _edit_cluster(cluster, pod_cidr="172.20.128.0/17", service_cluster_ip_range="bad")
    found = problems(cluster, groups)
    assert "overlaps spec.networkCIDR" in _one(found, "spec.podCIDR")
    assert "not a valid CIDR" in _one(found, "spec.serviceClusterIPRange")


def test_subnets_must_sit_inside_the_network_and_apart() -> None:
    cluster, groups = completed()
    subnets = list(cluster.spec.subnets)
    subnets[1] = subnets[1].model_copy(update={"cidr": "10.0.0.0/24"})
    subnets[2] = subnets[2].model_copy(update={"cidr": "172.20.16.0/20"})
    found = problems(_edit_cluster(cluster, subnets=subnets), groups)
    assert "is not inside spec.networkCIDR" in _one(found, "spec.subnets[1].cidr")
    assert "overlaps spec.subnets[0].cidr" in _one(found, "spec.subnets[2].cidr")


@pytest.mark.parametrize("name", ["Proyecto.k8s.local", "proyecto", "a_b.k8s.local", "x..local"])
def test_cluster_name_must_be_a_dns_name(name: str) -> None:
    cluster, groups = completed()
    renamed = cluster.model_copy(
        update={"metadata": cluster.metadata.model_copy(update={"name": name})}
    )
    assert ".k8s.local = gossip" in _one(problems(renamed, groups), "metadata.name")


def test_gossip_names() -> None:
    assert is_gossip("proyecto.k8s.local")
    assert not is_gossip("k8s.example.com")


def test_max_size_below_min_size_is_refused() -> None:
    cluster, groups = completed()
    found = problems(cluster, _edit_group(groups, "nodes", min_size=3, max_size=2))
    assert _one(found, "instancegroup/nodes.spec.maxSize").endswith("must be >= minSize (3)")


def test_instance_group_subnets_must_exist() -> None:
    cluster, groups = completed()
    found = problems(cluster, _edit_group(groups, "nodes", subnets=["eu-west-1a", "eu-west-9z"]))
    assert "'eu-west-9z' does not exist" in _one(found, "instancegroup/nodes.spec.subnets[1]")


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.31", "not a version"), ("banana", "not a version"), ("1.20.1", "not supported")],
)
def test_kubernetes_version_format_and_range(version: str, expected: str) -> None:
    cluster, groups = completed(kubernetes_version=version)
    assert expected in _one(problems(cluster, groups), "spec.kubernetesVersion")


def test_supported_versions_pass() -> None:
    for version in ("1.29.0", "v1.31.4", "1.34.1"):
        assert problems(*completed(kubernetes_version=version)) == []


@pytest.mark.parametrize("machine", ["t3.small", "m7g.2xlarge", "c7gn.metal", "m7i-flex.large"])
def test_plausible_machine_types_pass(machine: str) -> None:
    assert problems(*completed(node_size=machine)) == []


@pytest.mark.parametrize("machine", ["small", "t3", "T3.small", "t3.huge"])
def test_implausible_machine_types_are_refused(machine: str) -> None:
    found = problems(*completed(node_size=machine))
    assert "is not an EC2 instance type" in _one(found, "instancegroup/nodes.spec.machineType")


def test_every_problem_is_reported_at_once() -> None:
    cluster, groups = completed(kubernetes_version="2.0.0", node_size="huge")
    cluster = _edit_cluster(
        cluster,
        subnets=[*cluster.spec.subnets, Subnet(name="x", zone="eu-west-1z", cidr="1.2.3.4/8")],
    )
    with pytest.raises(SpecInvalid) as caught:
        validate(cluster, groups)
    fields = {p.split(":")[0] for p in caught.value.problems}
    assert {
        "spec.kubernetesVersion",
        "spec.subnets[3].cidr",
        "instancegroup/nodes.spec.machineType",
    } <= fields


def test_etcd_members_must_sit_on_master_groups() -> None:
    cluster, groups = completed()
    main = cluster.spec.etcd_clusters[0]
    members = [main.etcd_members[0].model_copy(update={"instance_group": "nodes"})]
    broken = _edit_cluster(
        cluster, etcd_clusters=[main.model_copy(update={"etcd_members": members})]
    )
    found = problems(broken, groups)
    assert "'nodes' is not a master instance group" in _one(
        found, "spec.etcdClusters[0].etcdMembers[0].instanceGroup"
    )
    assert any("missing the 'events' etcd cluster" in p for p in found)
    assert group(groups, "nodes").spec.role.value == "Node"
