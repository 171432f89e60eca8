"""The private topology's spec: what `--topology private` writes, its defaults, and the
rules that refuse what cannot work, each naming its field (kops's layout,
docs/operations.md#topologies)."""

import pytest

from escala.api import NatMode, Networking, Role, SubnetType, Topology, TopologySpec
from escala.api.create import CreateClusterOptions, topology_flag_problems
from escala.api.validation import problems, validate
from tests.api.specs import NAME, ZONES, completed, group

PRIVATE = {"topology": Topology.private, "networking": Networking.calico}


def test_private_puts_machines_in_private_subnets_and_a_utility_subnet_per_zone() -> None:
    cluster, groups = completed(**PRIVATE, bastion=True)
    validate(cluster, groups)
    kinds = {s.name: (s.type, s.zone) for s in cluster.spec.subnets}
    for zone in ZONES:
        assert kinds[zone] == (SubnetType.private, zone)
        assert kinds[f"utility-{zone}"] == (SubnetType.utility, zone)
    assert cluster.spec.topology == TopologySpec(
        masters=Topology.private, nodes=Topology.private, nat=NatMode.per_zone
    )
    assert group(groups, "nodes").spec.subnets == ZONES
    bastion = group(groups, "bastions").spec
    assert (bastion.role, bastion.machine_type, bastion.min_size, bastion.max_size) == (
        Role.bastion,
        "t3.micro",
        1,
        1,
    )
    assert bastion.subnets == [f"utility-{z}" for z in ZONES]


@pytest.mark.parametrize(
    ("flags", "flag"),
    [
        ({"topology": Topology.private, "networking": Networking.kubenet}, "--networking:"),
        ({"nat": NatMode.single}, "--nat single:"),
        ({"bastion": True}, "--bastion:"),
    ],
)
def test_flags_that_cannot_work_are_named_with_the_fix(flags: dict, flag: str) -> None:
    [problem] = topology_flag_problems(CreateClusterOptions(name=NAME, zones=ZONES, **flags))
    assert problem.startswith(flag)
    assert "--topology" in problem  # the fix names the other flag


def test_kubenet_in_a_private_topology_is_refused_naming_the_route_table_limit() -> None:
    cluster, groups = completed(**PRIVATE)
    cluster.spec.networking = Networking.kubenet
    [problem] = [p for p in problems(cluster, groups) if p.startswith("spec.networking")]
    assert "50 routes" in problem and "calico or cilium" in problem


def test_every_topology_problem_is_reported_at_once_with_its_field() -> None:
    cluster, groups = completed(**PRIVATE, bastion=True)
    spec = cluster.spec
    spec.topology = TopologySpec(masters=Topology.private, nodes=Topology.public, nat=None)
    spec.subnets = [s for s in spec.subnets if s.name != "utility-eu-west-1c"]
    nodes = group(groups, "nodes")
    nodes.spec.subnets = ["utility-eu-west-1a"]
    group(groups, "bastions").spec.subnets = ["eu-west-1b"]
    found = problems(cluster, groups)
    expected = [
        "spec.topology.nodes: public while spec.topology.masters is private",
        "spec.subnets[2]: zone eu-west-1c has no Utility subnet",
        "instancegroup/nodes.spec.subnets[0]: utility-eu-west-1a is a Utility subnet",
        "instancegroup/bastions.spec.subnets[0]: a bastion lives in Utility subnets",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in found), (start, found)


def test_private_parts_in_a_public_cluster_are_refused() -> None:
    cluster, groups = completed(**PRIVATE, bastion=True)
    cluster.spec.topology = TopologySpec(nat=NatMode.single)
    found = problems(cluster, groups)
    for start in (
        "spec.topology.nat: single NAT gateways serve private subnets",
        "spec.subnets[0].type: Private subnets belong to the private topology",
        "instancegroup/bastions.spec.role: a Bastion is the SSH way in",
    ):
        assert any(p.startswith(start) for p in found), (start, found)
