"""The private topology's task graph (kops's pkg/model/awsmodel/network.go layout): no
AWS involved."""

from escala.api import NatMode, Networking, Topology
from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.elastic_ip import ElasticIp
from escala.cloud.aws.load_balancer import LoadBalancer
from escala.cloud.aws.nat_gateway import NatGateway
from escala.cloud.aws.route_table import RouteTable
from escala.cloud.aws.security_group import SecurityGroupRule
from escala.cloud.aws.subnet import Subnet
from escala.model.cluster import build_tasks
from tests.reconcile.specs import NAME, SSH_PUBLIC_KEY, ZONES, completed


def _tasks(**flags: object) -> dict:
    cluster, groups = completed(Networking.calico, topology=Topology.private, **flags)
    return build_tasks(cluster, groups, SSH_PUBLIC_KEY)


def _of(tasks: dict, kind: type) -> dict:
    return {t.name: t for t in tasks.values() if isinstance(t, kind)}


def test_each_zone_egresses_through_its_own_nat_gateway_and_machines_get_no_public_ip():
    tasks = _tasks()
    subnets = _of(tasks, Subnet)
    assert {n for n, s in subnets.items() if not s.public} == set(ZONES)
    # where Kubernetes puts a Service's load balancers: internet-facing in utility subnets
    roles = {
        n: sorted(k for k in s.tags if k.startswith("kubernetes.io/role/"))
        for n, s in subnets.items()
    }
    assert roles[ZONES[0]] == ["kubernetes.io/role/internal-elb"]
    assert roles[f"utility-{ZONES[0]}"] == ["kubernetes.io/role/elb"]
    gateways = _of(tasks, NatGateway)
    assert {n: g.subnet.name for n, g in gateways.items()} == {
        f"{z}.{NAME}": f"utility-{z}" for z in ZONES
    }
    assert {g.elastic_ip.name for g in gateways.values()} == set(_of(tasks, ElasticIp))
    tables = _of(tasks, RouteTable)
    for zone in ZONES:
        table = tables[f"private-{zone}.{NAME}"]
        assert table.nat_gateway is gateways[f"{zone}.{NAME}"] and table.internet_gateway is None
        assert [s.name for s in table.subnets] == [zone]
    assert sorted(s.name for s in tables[NAME].subnets) == [f"utility-{z}" for z in ZONES]
    nat_rules = [r for r in _of(tasks, SecurityGroupRule).values() if r.address is not None]
    assert {(r.group.name, r.from_port, r.address.name) for r in nat_rules} == {
        (f"api-elb.{NAME}", 443, f"{z}.{NAME}") for z in ZONES
    }  # masters and nodes reach the API's public name from their NAT address
    [api] = _of(tasks, LoadBalancer).values()
    assert sorted(s.name for s in api.subnets) == [f"utility-{z}" for z in ZONES]
    groups = _of(tasks, AutoscalingGroup)
    assert [s.name for s in groups[f"nodes.{NAME}"].subnets] == list(ZONES)


def test_a_single_nat_gateway_serves_every_zone():
    tasks = _tasks(nat=NatMode.single)
    [gateway] = _of(tasks, NatGateway).values()
    assert len(_of(tasks, ElasticIp)) == 1 and gateway.subnet.name == f"utility-{ZONES[0]}"
    private = [t for n, t in _of(tasks, RouteTable).items() if n.startswith("private-")]
    assert len(private) == 3 and all(t.nat_gateway is gateway for t in private)


def test_with_a_bastion_masters_and_nodes_take_ssh_only_from_it():
    tasks = _tasks(bastion=True)
    ssh = {
        (r.group.name, r.cidr or r.source.name)
        for r in _of(tasks, SecurityGroupRule).values()
        if r.from_port == 22
    }
    assert ssh == {
        (f"bastion.{NAME}", "203.0.113.0/24"),
        (f"masters.{NAME}", f"bastion.{NAME}"),
        (f"nodes.{NAME}", f"bastion.{NAME}"),
    }
    bastion = _of(tasks, AutoscalingGroup)[f"bastions.{NAME}"]
    assert [s.name for s in bastion.subnets] == [f"utility-{z}" for z in ZONES]
    assert "kubeadm" not in bastion.launch_template.user_data
    assert bastion.tags["escala.io/role"] == "bastion"
