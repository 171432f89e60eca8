"""`delete cluster` removes everything tagged as the cluster's, Kubernetes-made resources
included, leaves `shared` ones, then removes the cluster from the state store."""

import boto3

from escala.cloud.aws.registry import find_owned
from escala.cloud.aws.tags import as_list, ownership_tag
from escala.ops.delete_cluster import delete_cluster
from escala.ops.update import update_cluster
from escala.reconcile.plan import Action
from tests.aws_calls import record_calls
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


def _vpc_and_subnets() -> tuple[str, list[str]]:
    ec2 = boto3.client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}])[
        "Vpcs"
    ][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return vpc_id, [s["SubnetId"] for s in subnets]


def test_what_kubernetes_made_goes_before_the_vpc_and_shared_things_stay(
    store, clients, monkeypatch
):
    """As the cloud-controller-manager and the EBS CSI driver leave them: a classic ELB
    with its own security group (which the nodes' group admits), an NLB with its target
    group, a volume attached to a node, a volume tagged only `KubernetesCluster` (older
    Kubernetes); plus an ELB, an NLB and a volume tagged `shared`."""
    update_cluster(store, NAME, clients, yes=True)
    vpc_id, subnet_ids = _vpc_and_subnets()
    ec2, elb, elbv2 = boto3.client("ec2"), boto3.client("elb"), boto3.client("elbv2")
    owned = [{"Key": ownership_tag(NAME), "Value": "owned"}]
    shared = [{"Key": ownership_tag(NAME), "Value": "shared"}]
    elb_group = ec2.create_security_group(
        GroupName="k8s-elb-a1b2c3d4e5f6",
        Description="Security group for Kubernetes ELB a1b2c3d4e5f6 (chat/web)",
        VpcId=vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": owned}],
    )["GroupId"]
    nodes_group = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"nodes.{NAME}"]}]
    )["SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=nodes_group,
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": elb_group}]}],
    )
    listeners = [{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}]
    elb.create_load_balancer(
        LoadBalancerName="a1b2c3d4e5f6", Listeners=listeners, Subnets=subnet_ids,
        SecurityGroups=[elb_group], Tags=owned,
    )  # fmt: skip
    elb.create_load_balancer(
        LoadBalancerName="someone-elses", Listeners=listeners, Subnets=subnet_ids, Tags=shared
    )
    nlb = elbv2.create_load_balancer(
        Name="k8s-chat-web-nlb", Type="network", Subnets=subnet_ids, Tags=owned
    )["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = elbv2.create_target_group(
        Name="k8s-chat-web-tg", Protocol="TCP", Port=30080, VpcId=vpc_id, Tags=owned
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=nlb, Protocol="TCP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )  # fmt: skip
    kept_nlb = elbv2.create_load_balancer(
        Name="shared-nlb", Type="network", Subnets=subnet_ids, Tags=shared
    )["LoadBalancers"][0]["LoadBalancerArn"]
    node = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"nodes.{NAME}"]
    )["AutoScalingGroups"][0]["Instances"][0]
    pvc = ec2.create_volume(
        AvailabilityZone=node["AvailabilityZone"], Size=10, VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": owned}],
    )["VolumeId"]  # fmt: skip
    ec2.attach_volume(VolumeId=pvc, InstanceId=node["InstanceId"], Device="/dev/xvdba")
    legacy = [{"Key": "KubernetesCluster", "Value": NAME}]  # what older Kubernetes wrote
    old_pvc = ec2.create_volume(
        AvailabilityZone=ZONES[0], Size=1,
        TagSpecifications=[{"ResourceType": "volume", "Tags": legacy}],
    )["VolumeId"]  # fmt: skip
    lent = ec2.create_volume(
        AvailabilityZone=ZONES[0], Size=1,
        TagSpecifications=[{"ResourceType": "volume", "Tags": legacy + shared}],
    )["VolumeId"]  # fmt: skip

    calls = record_calls(monkeypatch)
    delete_cluster(store, NAME, clients, yes=True)

    assert find_owned(clients, NAME) == []
    order = [(c.operation, str(c.params)) for c in calls]
    deleted_vpc = next(i for i, (op, _) in enumerate(order) if op == "DeleteVpc")
    for made in ("a1b2c3d4e5f6", nlb, target_group, elb_group, pvc, old_pvc):
        done = [
            i for i, (op, params) in enumerate(order) if op.startswith("Delete") and made in params
        ]
        assert done and done[-1] < deleted_vpc, f"{made} must be deleted before the VPC"
    assert [
        b["LoadBalancerName"] for b in elb.describe_load_balancers()["LoadBalancerDescriptions"]
    ] == ["someone-elses"]
    assert [b["LoadBalancerArn"] for b in elbv2.describe_load_balancers()["LoadBalancers"]] == [
        kept_nlb
    ]
    left = ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [pvc, old_pvc, lent]}])
    assert [v["VolumeId"] for v in left["Volumes"]] == [lent]
