"""The private topology's whole life against the sandbox: apply, nothing to change on a
second plan, machines without public IPs behind NAT gateways, then a delete that leaves
nothing, NAT gateways before the addresses they hold and the internet gateway."""

import boto3

from escala.api import Networking, Topology
from escala.ops.delete_cluster import delete_cluster
from escala.ops.update import update_cluster
from escala.state import open_store
from tests.leaks import leftovers
from tests.reconcile.specs import NAME, ZONES, write_cluster


def test_private_cluster_applies_once_has_no_public_machines_and_deletes_clean(tmp_path, clients):
    store = open_store(f"file://{tmp_path}/state")
    write_cluster(
        store,
        Networking.calico,
        topology=Topology.private,
        bastion=True,
        admin_access=["203.0.113.0/24"],
    )
    applied = update_cluster(store, NAME, clients, yes=True)
    assert applied.applied
    assert update_cluster(store, NAME, clients, yes=False).changes == []

    ec2 = boto3.client("ec2")
    subnets = {
        s["SubnetId"]: s
        for s in ec2.describe_subnets(
            Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}]
        )["Subnets"]
    }
    name_of = {
        i: next(t["Value"] for t in s["Tags"] if t["Key"] == "Name") for i, s in subnets.items()
    }
    public = sorted(name_of[i] for i, s in subnets.items() if s["MapPublicIpOnLaunch"])
    assert public == [f"utility-{z}.{NAME}" for z in ZONES]
    gateways = ec2.describe_nat_gateways(Filters=[{"Name": "state", "Values": ["available"]}])
    by_subnet = {g["SubnetId"]: g for g in gateways["NatGateways"]}
    assert sorted(name_of[s] for s in by_subnet) == public
    assert all(g["NatGatewayAddresses"][0]["AllocationId"] for g in by_subnet.values())
    for table in ec2.describe_route_tables(
        Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}]
    )["RouteTables"]:
        served = {name_of[a["SubnetId"]] for a in table["Associations"] if a.get("SubnetId")}
        default = next(r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0")
        if served & set(public):
            assert default["GatewayId"].startswith("igw-")
        else:
            [zone] = served
            nat = by_subnet[next(i for i, n in name_of.items() if n == f"utility-{zone}")]
            assert default["NatGatewayId"] == nat["NatGatewayId"]
    # masters and nodes reach the API's NLB from their zone's NAT address: let in
    addresses = {a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]}
    [api] = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"api-elb.{NAME}"]}]
    )["SecurityGroups"]
    https = [r["CidrIp"] for p in api["IpPermissions"] for r in p["IpRanges"]]
    assert sorted(https) == sorted(["203.0.113.0/24", *(f"{a}/32" for a in addresses)])
    autoscaling = boto3.client("autoscaling")
    for group in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]:
        zones_public = {name_of[s] in public for s in group["VPCZoneIdentifier"].split(",")}
        assert zones_public == {group["AutoScalingGroupName"] == f"bastions.{NAME}"}

    order: list[str] = []
    delete_cluster(store, NAME, clients, yes=True, on_step=lambda _, __, key: order.append(key))
    first_nat = min(i for i, k in enumerate(order) if k.startswith("NatGateway/"))
    assert all(
        first_nat < i
        for i, k in enumerate(order)
        if k.startswith(("ElasticIP/", "InternetGateway/"))
    )
    assert sum(k.startswith("ElasticIP/") for k in order) == 3
    assert leftovers() == []
