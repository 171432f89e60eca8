"""`delete cluster` removes everything tagged as the cluster's, Kubernetes-made resources
included, leaves `shared` ones, then removes the cluster from the state store."""

import boto3

from escala.cloud.aws.tags import as_list, ownership_tag
from escala.ops.delete import delete_cluster
from escala.ops.update import update_cluster
from escala.reconcile.delete import find_owned
from escala.reconcile.plan import Action
from tests.reconcile.specs import NAME, ZONES


def _kubernetes_made(vpc_id: str, subnet_ids: list[str]) -> None:
    """What the cloud provider creates for a LoadBalancer Service and a PVC."""
    tags = as_list({ownership_tag(NAME): "owned", "kubernetes.io/service-name": "chat/web"})
    boto3.client("elb").create_load_balancer(
        LoadBalancerName="a1b2c3d4e5f6",
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}],
        Subnets=subnet_ids,
        Tags=tags,
    )
    boto3.client("elbv2").create_load_balancer(
        Name="k8s-chat-web-nlb", Type="network", Subnets=subnet_ids, Tags=tags
    )
    boto3.client("ec2").create_volume(
        AvailabilityZone=ZONES[0],
        Size=10,
        VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": tags}],
    )


def _shared() -> tuple[str, str]:
    """A VPC and a volume someone else owns and lets the cluster use."""
    shared = [{"Key": ownership_tag(NAME), "Value": "shared"}]
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": shared}],
    )["Vpc"]["VpcId"]
    volume = ec2.create_volume(
        AvailabilityZone=ZONES[1],
        Size=5,
        TagSpecifications=[{"ResourceType": "volume", "Tags": shared}],
    )["VolumeId"]
    return vpc, volume


def test_delete_removes_every_owned_resource_and_the_state(store, clients):
    update_cluster(store, NAME, clients, yes=True)
    ec2 = boto3.client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}])[
        "Vpcs"
    ][0]["VpcId"]
    subnet_ids = [
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    ]
    _kubernetes_made(vpc_id, subnet_ids)
    shared_vpc, shared_volume = _shared()

    dry = delete_cluster(store, NAME, clients, yes=False)
    keys = {c.key for c in dry.changes}
    assert {c.action for c in dry.changes} == {Action.delete} and not dry.applied
    assert {"ClassicLoadBalancer/a1b2c3d4e5f6", "LoadBalancer/k8s-chat-web-nlb"} <= keys
    assert f"VPC/{NAME}" in keys and f"IAMRole/masters.{NAME}" in keys
    assert sum(k.startswith("EBSVolume/") for k in keys) == 7  # 6 etcd + 1 PVC
    assert store.has_cluster(NAME), "a dry run deletes nothing"

    done = delete_cluster(store, NAME, clients, yes=True)
    assert done.applied
    assert find_owned(clients, NAME) == []
    assert not store.has_cluster(NAME) and store.objects.list(f"{NAME}/") == []
    assert ec2.describe_vpcs(VpcIds=[shared_vpc])["Vpcs"]
    assert ec2.describe_volumes(VolumeIds=[shared_volume])["Volumes"]
    assert not boto3.client("elb").describe_load_balancers()["LoadBalancerDescriptions"]
