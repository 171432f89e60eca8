"""IAM roles and instance profiles for masters and nodes, with least-privilege policies.

Masters run the Kubernetes AWS cloud provider (routes for kubenet, load balancers and
volumes for Services and PVCs), attach their etcd volumes and run cluster-autoscaler;
changes to existing resources are limited to those tagged with the cluster. Nodes only
describe instances and the API load balancer, pull images from ECR and read their part
of the state store.
"""

from typing import Any
from urllib.parse import urlparse

from escala.api import Cluster, Role
from escala.cloud.aws.iam_role import IamRole
from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.run_command import AGENT_ACTIONS
from escala.cloud.aws.tags import CLUSTER_TAG
from escala.model.cluster.ebs_csi import ebs_csi_statements
from escala.model.context import ClusterContext
from escala.model.iam_policy import ECR_READ, statement
from escala.state.backups import ETCD_BACKUPS

# Nodes' boot script looks up the API load balancer's DNS name by its contract name.
NODE_READ = (
    "ec2:DescribeInstances",
    "ec2:DescribeRegions",
    "elasticloadbalancing:DescribeLoadBalancers",
)
# The AWS cloud-controller-manager's documented control-plane policy (cloud-provider-aws
# docs/prerequisites.md), split by what can be scoped, plus cluster-autoscaler's reads.
MASTER_READ = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTopology",
    "ec2:DescribeRegions",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVolumes",
    "ec2:DescribeVpcs",
    "ec2:DescribeTags",
    "ec2:DescribeLaunchTemplateVersions",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeTags",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancerPolicies",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "kms:DescribeKey",
)
# Creating can only be scoped by the tags of the request, which Kubernetes sets.
# (Volumes are the EBS CSI driver's, created tagged only: escala.model.cluster.ebs_csi.)
MASTER_CREATE = (
    "ec2:CreateRoute",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "elasticloadbalancing:CreateLoadBalancer",
    "elasticloadbalancing:CreateTargetGroup",
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:AddTags",
)
# Changing or deleting is limited to resources tagged KubernetesCluster=<name>:
# volumes, kubenet's routes, Service security groups, classic ELBs and NLBs.
MASTER_MODIFY_OWNED = (
    "ec2:AttachVolume",
    "ec2:DetachVolume",
    "ec2:DeleteVolume",
    "ec2:ModifyVolume",
    "ec2:DeleteRoute",
    "ec2:ModifyInstanceAttribute",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
    "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
    "elasticloadbalancing:AttachLoadBalancerToSubnets",
    "elasticloadbalancing:ConfigureHealthCheck",
    "elasticloadbalancing:CreateLoadBalancerListeners",
    "elasticloadbalancing:CreateLoadBalancerPolicy",
    "elasticloadbalancing:DeleteLoadBalancerListeners",
    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
    "elasticloadbalancing:DetachLoadBalancerFromSubnets",
    "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
    "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
    "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
    "autoscaling:SetDesiredCapacity",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
)
# The first load balancer of an account creates ELB's service-linked role.
ELB_SERVICE_LINKED_ROLE = {
    "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
}


def _state_store(cluster: Cluster) -> tuple[str, str] | None:
    """(bucket, key prefix of the cluster) when the state store is S3, else None."""
    url = cluster.spec.config_base or ""
    if not url.startswith("s3://"):
        return None
    parsed = urlparse(url)
    return parsed.netloc, parsed.path.strip("/")


def _state_statements(cluster: Cluster, readable: list[str]) -> list[dict[str, Any]]:
    store = _state_store(cluster)
    if store is None:
        return []
    bucket, prefix = store
    base = f"arn:aws:s3:::{bucket}/{prefix}" if prefix else f"arn:aws:s3:::{bucket}"
    return [
        statement(["s3:GetObject"], [f"{base}/{path}" for path in readable]),
        statement(
            ["s3:ListBucket"],
            f"arn:aws:s3:::{bucket}",
            Condition={"StringLike": {"s3:prefix": [f"{prefix}/*" if prefix else "*"]}},
        ),
        statement(["s3:GetBucketLocation"], f"arn:aws:s3:::{bucket}"),
    ]


def _backup_statements(cluster: Cluster) -> list[dict[str, Any]]:
    """Masters write etcd backups under `<cluster>/backups/etcd/`, encrypted (SSE-S3),
    and delete the ones retention drops (escala-etcd.sh)."""
    store = _state_store(cluster)
    if store is None:
        return []
    bucket, prefix = store
    backups = f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}{ETCD_BACKUPS}/*"
    encrypted = {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}
    return [
        statement(["s3:PutObject"], backups, Condition=encrypted),
        statement(["s3:DeleteObject"], backups),
    ]


def master_policy(cluster: Cluster) -> dict[str, Any]:
    """Masters read all of `<cluster>/` in the state store, and write its etcd backups."""
    owned = {"StringEquals": {f"aws:ResourceTag/{CLUSTER_TAG}": cluster.name}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            statement(MASTER_READ + ECR_READ),
            statement(MASTER_CREATE),
            statement(MASTER_MODIFY_OWNED, Condition=owned),
            statement(["iam:CreateServiceLinkedRole"], Condition=ELB_SERVICE_LINKED_ROLE),
            *ebs_csi_statements(cluster.name),
            statement(AGENT_ACTIONS),  # SSM Run Command: `escala restore etcd`
            *_state_statements(cluster, ["*"]),
            *_backup_statements(cluster),
        ],
    }


def node_policy(cluster: Cluster) -> dict[str, Any]:
    """Nodes read only `node/*`, the completed spec and the instance groups."""
    readable = ["node/*", "cluster-completed.spec", "instancegroup/*"]
    return {
        "Version": "2012-10-17",
        "Statement": [statement(NODE_READ + ECR_READ), *_state_statements(cluster, readable)],
    }


def bastion_policy(cluster: Cluster) -> dict[str, Any]:
    """A bastion reads nothing of the cluster; kops gives it as little."""
    return {"Version": "2012-10-17", "Statement": [statement(["ec2:DescribeRegions"])]}


def role_name(role: Role, cluster_name: str) -> str:
    return f"{role.value.lower()}s.{cluster_name}"


def build_iam(ctx: ClusterContext) -> None:
    roles = [(Role.master, master_policy), (Role.node, node_policy)]
    if any(g.spec.role is Role.bastion for g in ctx.groups):
        roles.append((Role.bastion, bastion_policy))
    for role, policy in roles:
        name = role_name(role, ctx.cluster_name)
        iam_role = IamRole(name=name, tags=ctx.role_tags(name, role), policy=policy(ctx.cluster))
        ctx.add(iam_role)
        ctx.add(InstanceProfile(name=name, tags=ctx.role_tags(name, role), role=iam_role))
