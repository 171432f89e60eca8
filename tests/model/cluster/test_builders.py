"""The builders are pure: these tests look at the task graph, no AWS involved."""

import pytest

from escala.api import Networking
from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.ebs_volume import EbsVolume
from escala.cloud.aws.iam_role import IamRole
from escala.cloud.aws.security_group import SecurityGroupRule
from escala.cloud.aws.tags import ETCD_TAG, INSTANCE_GROUP_TAG, ROLE_TAG, ownership_tag
from escala.errors import SpecInvalid
from escala.model.cluster import build_tasks
from escala.model.cluster.iam_roles import master_policy, node_policy
from escala.reconcile.engine import ordered
from tests.reconcile.specs import NAME, SSH_PUBLIC_KEY, ZONES, completed


def _tasks(networking: Networking = Networking.kubenet):
    cluster, groups = completed(networking)
    return build_tasks(cluster, groups, SSH_PUBLIC_KEY)


def test_order_follows_references_and_every_reference_is_in_the_graph():
    tasks = _tasks()
    order = [t.key for t in ordered(tasks.values())]
    assert order.index(f"VPC/{NAME}") < order.index(f"Subnet/{ZONES[0]}")
    for task in tasks.values():
        for dependency in task.dependencies():
            assert tasks[dependency.key] is dependency
            assert order.index(dependency.key) < order.index(task.key)


def test_every_taggable_resource_carries_the_ownership_tags():
    for task in _tasks().values():
        if isinstance(task, SecurityGroupRule):
            continue  # rules are part of their group, which is tagged
        assert task.tags["KubernetesCluster"] == NAME, task.key
        assert task.tags[ownership_tag(NAME)] == "owned", task.key
        assert task.tags["Name"], task.key


def test_instance_groups_are_named_and_tagged_by_the_contract():
    asgs = [t for t in _tasks().values() if isinstance(t, AutoscalingGroup)]
    assert sorted(a.name for a in asgs) == sorted(
        [f"master-{z}.{NAME}" for z in ZONES] + [f"nodes.{NAME}"]
    )
    for asg in asgs:
        assert asg.launch_template.name == asg.name
        group = asg.name.split(".")[0]
        assert asg.tags[INSTANCE_GROUP_TAG] == group
        assert asg.tags[ROLE_TAG] == ("master" if group.startswith("master") else "node")
        masters = group.startswith("master")
        assert [s.zone for s in asg.subnets] == (
            [group[len("master-") :]] if masters else list(ZONES)
        )


def test_etcd_volumes_one_per_master_zone_per_etcd_cluster():
    volumes = [t for t in _tasks().values() if isinstance(t, EbsVolume)]
    found = sorted((v.tags[ETCD_TAG], v.zone, v.tags[INSTANCE_GROUP_TAG]) for v in volumes)
    assert found == sorted(
        (f"{etcd}/{z[-1]}", z, f"master-{z}") for etcd in ("main", "events") for z in ZONES
    )


def _ingress(tasks, group: str) -> set[tuple[str, str]]:
    return {
        (t.desired()["ports"], t.desired()["from"])
        for t in tasks.values()
        if isinstance(t, SecurityGroupRule) and t.group.name == f"{group}.{NAME}"
    }


def test_only_the_ports_the_cluster_needs_are_open():
    tasks = _tasks()
    assert _ingress(tasks, "api-elb") == {("tcp/443", "0.0.0.0/0")}
    assert _ingress(tasks, "masters") == {
        ("tcp/22", "203.0.113.0/24"),
        ("tcp/6443", f"api-elb.{NAME}"),
        ("tcp/6443", f"nodes.{NAME}"),
        ("all", f"masters.{NAME}"),  # etcd (2379-2381) only between masters
    }
    assert _ingress(tasks, "nodes") == {
        ("tcp/22", "203.0.113.0/24"),
        ("all", f"nodes.{NAME}"),
        ("all", f"masters.{NAME}"),
    }


def test_the_overlay_opens_its_own_ports_from_nodes_to_masters():
    extra = _ingress(_tasks(Networking.cilium), "masters") - _ingress(_tasks(), "masters")
    assert extra == {("udp/8472", f"nodes.{NAME}"), ("tcp/4240", f"nodes.{NAME}")}


def test_node_role_reads_only_its_part_of_the_state_store():
    cluster, _ = completed()
    reads = [s for s in node_policy(cluster)["Statement"] if s["Action"] == ["s3:GetObject"]]
    assert reads[0]["Resource"] == [
        f"arn:aws:s3:::escala-state/{NAME}/node/*",
        f"arn:aws:s3:::escala-state/{NAME}/cluster-completed.spec",
        f"arn:aws:s3:::escala-state/{NAME}/instancegroup/*",
    ]
    master_reads = [
        s for s in master_policy(cluster)["Statement"] if s["Action"] == ["s3:GetObject"]
    ]
    assert master_reads[0]["Resource"] == [f"arn:aws:s3:::escala-state/{NAME}/*"]
    roles = {t.name: t for t in _tasks().values() if isinstance(t, IamRole)}
    assert roles[f"nodes.{NAME}"].policy == node_policy(cluster)


def test_a_file_state_store_grants_no_s3_access():
    cluster, _ = completed()
    cluster.spec.config_base = f"file:///var/escala/{NAME}"
    actions = {a for s in node_policy(cluster)["Statement"] for a in s["Action"]}
    assert not any(a.startswith("s3:") for a in actions)


def test_an_incomplete_instance_group_is_refused_naming_the_field():
    cluster, groups = completed()
    groups[-1].spec.image = None
    with pytest.raises(SpecInvalid, match=r"instanceGroup nodes: spec\.image"):
        build_tasks(cluster, groups, SSH_PUBLIC_KEY)


def test_no_ssh_key_means_no_key_pair():
    cluster, groups = completed()
    tasks = build_tasks(cluster, groups, None)
    assert not any(k.startswith("KeyPair/") for k in tasks)


# The control-plane policy cloud-provider-aws documents for the AWS
# cloud-controller-manager (docs/prerequisites.md), which runs on escala's masters.
CCM_CONTROL_PLANE = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeTags",
    "ec2:DescribeInstances",
    "ec2:DescribeRegions",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVolumes",
    "ec2:DescribeAvailabilityZones",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "ec2:CreateVolume",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyVolume",
    "ec2:AttachVolume",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateRoute",
    "ec2:DeleteRoute",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteVolume",
    "ec2:DetachVolume",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:DescribeVpcs",
    "ec2:DescribeInstanceTopology",
    "elasticloadbalancing:AddTags",
    "elasticloadbalancing:AttachLoadBalancerToSubnets",
    "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
    "elasticloadbalancing:CreateLoadBalancer",
    "elasticloadbalancing:CreateLoadBalancerPolicy",
    "elasticloadbalancing:CreateLoadBalancerListeners",
    "elasticloadbalancing:ConfigureHealthCheck",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:DeleteLoadBalancerListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DetachLoadBalancerFromSubnets",
    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
    "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:CreateTargetGroup",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerPolicies",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
    "iam:CreateServiceLinkedRole",
    "kms:DescribeKey",
]


def test_masters_may_do_what_the_cloud_controller_manager_documents():
    cluster, _ = completed()
    statements = master_policy(cluster)["Statement"]
    granted = {a for s in statements for a in s["Action"]}
    assert set(CCM_CONTROL_PLANE) - granted == set()
    assert not any("*" in a for a in granted)
    deletes = {a for s in statements if "Condition" not in s for a in s["Action"]}
    assert not any(":Delete" in a or ":Modify" in a for a in deletes), (
        "changing existing resources is only allowed on those tagged with the cluster"
    )
