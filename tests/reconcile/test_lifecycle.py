"""The lifecycle against a moto server: apply, apply again (no changes), change, delete."""

from collections import Counter

import boto3
import pytest

from escala.api import Role
from escala.cloud.aws.registry import find_owned
from escala.cloud.aws.tags import CLUSTER_TAG, as_dict, ownership_tag
from escala.errors import CannotChangeField, UsageError
from escala.ops.cloud_groups import read_groups
from escala.ops.update import update_cluster
from escala.reconcile.plan import NO_CHANGES, Action
from tests.reconcile.specs import NAME, ZONES

OWNED = {CLUSTER_TAG: NAME, ownership_tag(NAME): "owned"}


def _owned(tags: list[dict[str, str]] | None) -> bool:
    return OWNED.items() <= as_dict(tags).items()


def test_create_builds_every_resource_and_a_second_update_changes_nothing(store, clients):
    dry = update_cluster(store, NAME, clients, yes=False)
    ec2 = boto3.client("ec2")
    assert not dry.applied and len(dry.changes) == 39
    assert not ec2.describe_vpcs(Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}])[
        "Vpcs"
    ], "a dry run must not create anything"

    applied = update_cluster(store, NAME, clients, yes=True)
    assert applied.applied and {c.action for c in applied.changes} == {Action.create}

    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}])["Vpcs"]
    assert len(vpc) == 1 and _owned(vpc[0]["Tags"])
    vpc_id = vpc[0]["VpcId"]
    dns = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
    assert dns["EnableDnsSupport"]["Value"] is True
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == list(ZONES)
    assert all(_owned(s["Tags"]) for s in subnets)
    igws = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    )["InternetGateways"]
    assert len(igws) == 1 and _owned(igws[0]["Tags"])
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}]
    )["RouteTables"]
    default = [r for r in tables[0]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert default[0]["GatewayId"] == igws[0]["InternetGatewayId"]

    groups = {
        g["GroupName"]: g
        for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "SecurityGroups"
        ]
    }
    api = groups[f"api-elb.{NAME}"]["IpPermissions"]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in api] == [(443, "0.0.0.0/0")]
    masters = groups[f"masters.{NAME}"]["IpPermissions"]
    assert {p.get("FromPort") for p in masters} == {22, 6443, None}  # None: all from masters

    iam = boto3.client("iam")
    for role in ("masters", "nodes"):
        profile = iam.get_instance_profile(InstanceProfileName=f"{role}.{NAME}")
        assert profile["InstanceProfile"]["Roles"][0]["RoleName"] == f"{role}.{NAME}"
    node_policy = iam.get_role_policy(RoleName=f"nodes.{NAME}", PolicyName=f"nodes.{NAME}")
    s3 = [s for s in node_policy["PolicyDocument"]["Statement"] if "s3:GetObject" in s["Action"]]
    assert sorted(s3[0]["Resource"]) == [
        f"arn:aws:s3:::escala-state/{NAME}/{p}"
        for p in ("cluster-completed.spec", "instancegroup/*", "node/*")
    ]

    keys = ec2.describe_key_pairs(KeyNames=[f"kubernetes.{NAME}"])["KeyPairs"]
    assert len(keys) == 1

    autoscaling = boto3.client("autoscaling")
    asgs = {
        g["AutoScalingGroupName"]: g
        for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    }
    master_asgs = [asgs[f"master-{z}.{NAME}"] for z in ZONES]
    subnet_zone = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}
    assert [subnet_zone[g["VPCZoneIdentifier"]] for g in master_asgs] == list(ZONES)
    assert all(g["MinSize"] == g["MaxSize"] == 1 for g in master_asgs)
    for name, asg in asgs.items():
        assert asg["LaunchTemplate"]["LaunchTemplateName"] == name
        assert asg["LaunchTemplate"]["Version"] == "1"
        assert OWNED.items() <= {t["Key"]: t["Value"] for t in asg["Tags"]}.items()

    data = ec2.describe_launch_template_versions(
        LaunchTemplateName=f"nodes.{NAME}", Versions=["1"]
    )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    ebs = data["BlockDeviceMappings"][0]["Ebs"]
    assert (ebs["VolumeType"], ebs["Encrypted"], ebs["VolumeSize"]) == ("gp3", True, 128)
    assert data["ImageId"].startswith("ami-") and data["InstanceType"] == "t3.small"

    elbv2 = boto3.client("elbv2")
    lb = elbv2.describe_load_balancers(Names=["api-proyecto-k8s-local"])["LoadBalancers"][0]
    assert lb["Type"] == "network" and len(lb["AvailabilityZones"]) == 3
    listener = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
    target = elbv2.describe_target_groups(
        TargetGroupArns=[listener["DefaultActions"][0]["TargetGroupArn"]]
    )["TargetGroups"][0]
    assert (listener["Protocol"], listener["Port"], target["Port"]) == ("TCP", 443, 6443)

    volumes = ec2.describe_volumes(Filters=[{"Name": "tag-key", "Values": ["escala.io/etcd"]}])[
        "Volumes"
    ]
    etcd = sorted(as_dict(v["Tags"])["escala.io/etcd"] for v in volumes)
    assert etcd == sorted(f"{c}/{z[-1]}" for c in ("main", "events") for z in ZONES)
    assert all(v["Encrypted"] and v["VolumeType"] == "gp3" for v in volumes)
    assert all(_owned(v["Tags"]) for v in volumes)

    # discovery selects by the ownership tag: every resource built is found by it
    owned = Counter(o.kind for o in find_owned(clients, NAME))
    assert owned == {
        "VPC": 1,
        "Subnet": 3,
        "InternetGateway": 1,
        "RouteTable": 1,
        "SecurityGroup": 3,
        "IAMRole": 2,
        "InstanceProfile": 2,
        "KeyPair": 1,
        "LaunchTemplate": 4,
        "AutoscalingGroup": 4,
        "Instance": 4,  # launched by the ASGs, tagged at launch
        "LoadBalancer": 1,
        "TargetGroup": 1,
        "EBSVolume": 6,
    }

    again = update_cluster(store, NAME, clients, yes=True)
    assert again.empty and again.render() == NO_CHANGES + "\n"


def test_a_changed_instance_group_plans_and_applies_a_new_launch_template_version(store, clients):
    update_cluster(store, NAME, clients, yes=True)
    nodes = store.get_instance_group(NAME, "nodes")
    nodes.spec.max_size = 5
    nodes.spec.machine_type = "t3.medium"
    store.put_instance_group(NAME, nodes)

    plan = update_cluster(store, NAME, clients, yes=False)
    assert [
        (c.key, c.action, [(f.field, f.old, f.new) for f in c.fields]) for c in plan.changes
    ] == [
        (
            f"LaunchTemplate/nodes.{NAME}",
            Action.modify,
            [("instanceType", "t3.small", "t3.medium")],
        ),
        (
            f"AutoscalingGroup/nodes.{NAME}",
            Action.modify,
            [("maxSize", 1, 5), ("launchTemplateVersion", 1, 2)],
        ),
    ]
    assert update_cluster(store, NAME, clients, yes=True).changes == plan.changes

    asg = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"nodes.{NAME}"]
    )["AutoScalingGroups"][0]
    assert (asg["MaxSize"], asg["LaunchTemplate"]["Version"]) == (5, "2")
    version = boto3.client("ec2").describe_launch_template_versions(
        LaunchTemplateName=f"nodes.{NAME}", Versions=["2"]
    )["LaunchTemplateVersions"][0]
    assert version["LaunchTemplateData"]["InstanceType"] == "t3.medium"
    assert update_cluster(store, NAME, clients, yes=False).empty


def _nodes_resized_and_applied(store, clients) -> None:  # type: ignore[no-untyped-def]
    """Create the cluster, then change the nodes' machine type and apply that."""
    update_cluster(store, NAME, clients, yes=True)
    nodes = store.get_instance_group(NAME, "nodes")
    nodes.spec.machine_type = "t3.medium"
    store.put_instance_group(NAME, nodes)
    update_cluster(store, NAME, clients, yes=True)


def test_a_new_launch_template_version_is_the_default_and_what_rolling_update_sees(store, clients):
    _nodes_resized_and_applied(store, clients)

    ec2 = boto3.client("ec2")
    template = ec2.describe_launch_templates(LaunchTemplateNames=[f"nodes.{NAME}"])
    assert template["LaunchTemplates"][0]["DefaultVersionNumber"] == 2
    groups = {g.name: g for g in read_groups(clients, NAME, store.list_instance_groups(NAME))}
    assert [len(g.stale) for g in groups.values() if g.is_master] == [0, 0, 0]
    (stale,) = groups["nodes"].stale
    assert (groups["nodes"].target_version, stale.launch_template_version) == ("2", "1")
    # What launches without naming a version (a console user, moto's ASG) gets the new spec.
    (default,) = ec2.describe_launch_template_versions(
        LaunchTemplateName=f"nodes.{NAME}", Versions=["$Default"]
    )["LaunchTemplateVersions"]
    assert default["LaunchTemplateData"]["InstanceType"] == "t3.medium"


def test_an_apply_stopped_before_the_new_default_version_is_finished_next_run(store, clients):
    _nodes_resized_and_applied(store, clients)
    # As if the run had stopped between CreateLaunchTemplateVersion and ModifyLaunchTemplate.
    ec2 = boto3.client("ec2")
    ec2.modify_launch_template(LaunchTemplateName=f"nodes.{NAME}", DefaultVersion="1")

    plan = update_cluster(store, NAME, clients, yes=True)
    assert [(c.key, [(f.field, f.old, f.new) for f in c.fields]) for c in plan.changes] == [
        (f"LaunchTemplate/nodes.{NAME}", [("instanceType", "t3.small", "t3.medium")]),
        (f"AutoscalingGroup/nodes.{NAME}", [("launchTemplateVersion", 2, 3)]),
    ]
    template = ec2.describe_launch_templates(LaunchTemplateNames=[f"nodes.{NAME}"])
    assert template["LaunchTemplates"][0]["DefaultVersionNumber"] == 3
    assert update_cluster(store, NAME, clients, yes=False).empty


def test_masters_are_untouched_when_only_nodes_change(store, clients):
    update_cluster(store, NAME, clients, yes=True)
    for ig in store.list_instance_groups(NAME):
        if ig.spec.role is Role.node:
            ig.spec.min_size = 2
            store.put_instance_group(NAME, ig)
    plan = update_cluster(store, NAME, clients, yes=False)
    assert [c.key for c in plan.changes] == [f"AutoscalingGroup/nodes.{NAME}"]


def test_a_removed_instance_group_is_deleted_by_the_next_update(store, clients):
    update_cluster(store, NAME, clients, yes=True)
    extra = store.get_instance_group(NAME, "nodes").model_copy(deep=True)
    extra.metadata.name = "spot"
    store.put_instance_group(NAME, extra)
    added = update_cluster(store, NAME, clients, yes=True)
    assert sorted(c.key for c in added.changes) == [
        f"AutoscalingGroup/spot.{NAME}",
        f"LaunchTemplate/spot.{NAME}",
    ]

    store.delete_instance_group(NAME, "spot")
    plan = update_cluster(store, NAME, clients, yes=True)
    assert [(c.key, c.action) for c in plan.changes] == [
        (f"AutoscalingGroup/spot.{NAME}", Action.delete),
        (f"LaunchTemplate/spot.{NAME}", Action.delete),
    ]
    names = [
        g["AutoScalingGroupName"]
        for g in boto3.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    ]
    assert f"spot.{NAME}" not in names and f"nodes.{NAME}" in names
    assert update_cluster(store, NAME, clients, yes=False).empty


def test_a_changed_ssh_access_list_revokes_the_old_cidr(store, clients):
    update_cluster(store, NAME, clients, yes=True)
    cluster = store.get_cluster(NAME, completed=True)
    cluster.spec.ssh_access = ["198.51.100.7/32"]
    store.put_cluster(cluster, completed=cluster)

    plan = update_cluster(store, NAME, clients, yes=True)
    assert sorted((c.action, c.name) for c in plan.changes) == [
        (Action.create, f"masters-ssh-from-198.51.100.7/32.{NAME}"),
        (Action.create, f"nodes-ssh-from-198.51.100.7/32.{NAME}"),
        (Action.delete, f"masters.{NAME}: tcp/22 from 203.0.113.0/24"),
        (Action.delete, f"nodes.{NAME}: tcp/22 from 203.0.113.0/24"),
    ]
    groups = boto3.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"masters.{NAME}"]}]
    )["SecurityGroups"]
    ssh = [p for p in groups[0]["IpPermissions"] if p.get("FromPort") == 22]
    assert [r["CidrIp"] for p in ssh for r in p["IpRanges"]] == ["198.51.100.7/32"]
    assert update_cluster(store, NAME, clients, yes=False).empty


def test_an_unknown_image_is_refused_before_anything_is_created(store, clients):
    nodes = store.get_instance_group(NAME, "nodes")
    nodes.spec.image = "099720109477/no-such-image-*"
    store.put_instance_group(NAME, nodes)
    with pytest.raises(UsageError, match=r"spec\.image: no AMI matches"):
        update_cluster(store, NAME, clients, yes=True)
    assert not boto3.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}]
    )["Vpcs"]


def test_a_field_aws_cannot_change_is_refused_naming_it(store, clients):
    update_cluster(store, NAME, clients, yes=True)
    cluster = store.get_cluster(NAME, completed=True)
    cluster.spec.network_cidr = "10.0.0.0/16"
    store.put_cluster(cluster, completed=cluster)
    with pytest.raises(CannotChangeField, match=r"VPC/proyecto\.k8s\.local: cidr cannot change"):
        update_cluster(store, NAME, clients, yes=True)
    vpcs = boto3.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}]
    )["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs] == ["172.20.0.0/16"]
