"""The operator's least-privilege policies: every action escala calls
(`escala.cloud.aws.registry.operator_iam_actions`), each scoped to what escala owns.

What "owns" means per service, from AWS's Service Authorization Reference (the actions,
resource types and condition keys of each service; docs/operations.md lists the pages):

- EC2, Elastic Load Balancing, Auto Scaling, ECS, ECR: writes on existing resources need
  `aws:ResourceTag/KubernetesCluster` (the ownership tag every escala resource carries);
  creates need `aws:RequestTag/KubernetesCluster` and only escala's tag keys in
  `aws:TagKeys`, so nothing is created untagged, and the tagging a create implies
  (`ec2:CreateTags`, `elasticloadbalancing:AddTags`, `ecs:TagResource`) is allowed only
  inside those creates (`ec2:CreateAction` and its ELB and ECS twins).
- IAM roles and instance profiles by name (`masters.`, `nodes.`, `bastions.`, `instances.`,
  `task-execution.` + the owner's name); roles passed only to EC2 and ECS tasks;
  service-linked roles only for the services escala uses.
- CloudWatch alarms by the `TargetTracking-` prefix AWS gives the alarms of target
  tracking policies; log groups by their names (`/escala/chat/<service>`); S3 by the
  state bucket.
- Reads (Describe*, List*, Get*) stay on `*`: most support no resource-level
  permissions, and `delete` must read everything to find what is tagged as its own.

`owner` narrows every tag value and name to cluster/service names matching a glob (the
default `*` is any escala owner). The statements are split across a few managed
policies, each under IAM's 6,144-character limit for one policy.
"""

from collections.abc import Iterable
from typing import Any

from escala.cloud.aws.registry import operator_iam_actions
from escala.cloud.aws.tags import CLUSTER_TAG
from escala.model.chat_service.front import log_group_name
from escala.model.iam_policy import statement

# The tag keys escala writes (escala.cloud.aws.tags, the cluster-autoscaler's discovery
# tags on node groups): a create may carry these and no others.
# SubnetType and kubernetes.io/role/*: kops's subnet tags (escala.model.network).
TAG_KEYS = [
    "KubernetesCluster",
    "Name",
    "SubnetType",
    "kubernetes.io/cluster/*",
    "kubernetes.io/role/*",
    "k8s.io/*",
    "escala.io/*",
]
# The name prefixes of the roles and instance profiles escala makes
# (escala.model.cluster.iam_roles, escala.model.chat_service).
ROLE_PREFIXES = ("masters.", "nodes.", "bastions.", "instances.", "task-execution.")
PASSED_TO = ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]
SERVICE_LINKED = [
    "autoscaling.amazonaws.com",
    "ecs.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
]

# Creates that tag what they make (TagSpecifications, Tags, tags).
EC2_CREATES = (
    "ec2:AllocateAddress",
    "ec2:CreateInternetGateway",
    "ec2:CreateLaunchTemplate",
    "ec2:CreateNatGateway",
    "ec2:CreateRouteTable",
    "ec2:CreateSecurityGroup",
    "ec2:CreateSubnet",
    "ec2:CreateVolume",
    "ec2:CreateVpc",
    "ec2:ImportKeyPair",
)
ELB_CREATES = (
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:CreateLoadBalancer",
    "elasticloadbalancing:CreateTargetGroup",
)
ECS_CREATES = ("ecs:CreateCluster", "ecs:CreateService", "ecs:RegisterTaskDefinition")
OTHER_CREATES = ("autoscaling:CreateAutoScalingGroup", "ecr:CreateRepository")
# Tagging allowed only as part of a create (the create action's context key).
TAG_ON_CREATE = {
    "ec2:CreateTags": ("ec2:CreateAction", (*EC2_CREATES, "ec2:RunInstances")),
    "elasticloadbalancing:AddTags": ("elasticloadbalancing:CreateAction", ELB_CREATES),
    "ecs:TagResource": ("ecs:CreateAction", ECS_CREATES),
}
# Writes on `*`, each for a reason the Service Authorization Reference gives.
UNSCOPED = {
    # Auto Scaling checks at CreateAutoScalingGroup that the caller may launch from the
    # launch template; the launch also names Canonical's AMI, which carries no tag of ours.
    "ec2:RunInstances": "the AMI is not ours",
    # DeregisterTaskDefinition has no resource type in the reference.
    "ecs:DeregisterTaskDefinition": "no resource-level permissions",
    # escala registers scalable targets untagged, and Application Auto Scaling's
    # resource (a random scalable-target ARN) cannot be named by the service it scales.
    "application-autoscaling:RegisterScalableTarget": "targets are untagged",
    "application-autoscaling:DeregisterScalableTarget": "targets are untagged",
    "application-autoscaling:PutScalingPolicy": "targets are untagged",
    "application-autoscaling:DeleteScalingPolicy": "targets are untagged",
    # Parameter names are the user's (`escala create parameter NAME`), and PutParameter
    # refuses Tags together with Overwrite, so they cannot carry the ownership tag.
    "ssm:PutParameter": "names are the user's",
    "ecr:GetAuthorizationToken": "no resource-level permissions",
}
READ_VERBS = ("Describe", "List", "Get", "BatchGet", "BatchCheck")
ALARM_ACTIONS = ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms")


def _owned(owner: str) -> dict[str, Any]:
    return {"StringLike": {f"aws:ResourceTag/{CLUSTER_TAG}": owner}}


def _tagged_request(owner: str) -> dict[str, Any]:
    return {
        "StringLike": {f"aws:RequestTag/{CLUSTER_TAG}": owner},
        "ForAllValues:StringLike": {"aws:TagKeys": TAG_KEYS},
    }


def _is_read(action: str) -> bool:
    service, verb = action.split(":")
    return service != "s3" and verb.startswith(READ_VERBS)


def _pick(actions: Iterable[str], *services: str) -> list[str]:
    return [a for a in actions if a.split(":")[0] in services]


def _iam_statements(actions: list[str], owner: str) -> list[dict[str, Any]]:
    names = [f"{prefix}{owner}" for prefix in ROLE_PREFIXES]
    roles = [f"arn:aws:iam::*:role/{n}" for n in names]
    profiles = [f"arn:aws:iam::*:instance-profile/{n}" for n in names]
    special = {"iam:PassRole", "iam:CreateServiceLinkedRole"}
    return [
        statement([a for a in actions if a not in special], roles + profiles, Sid="OwnRoles"),
        statement(
            ["iam:PassRole"],
            roles,
            Sid="PassOwnRoles",
            Condition={"StringEquals": {"iam:PassedToService": PASSED_TO}},
        ),
        statement(
            ["iam:CreateServiceLinkedRole"],
            Sid="ServiceLinkedRoles",
            Condition={"StringEquals": {"iam:AWSServiceName": SERVICE_LINKED}},
        ),
    ]


def _tagging_statements(actions: list[str], owner: str, sid: str) -> list[dict[str, Any]]:
    """The creates, their tag-on-create, and the writes on owned resources of `actions`."""
    creates = [
        a for a in actions if a in (*EC2_CREATES, *ELB_CREATES, *ECS_CREATES, *OTHER_CREATES)
    ]
    tagging = [a for a in actions if a in TAG_ON_CREATE or a == "ecr:TagResource"]
    owned = [a for a in actions if a not in creates and a not in tagging]
    out = [statement(creates, Sid=f"{sid}Create", Condition=_tagged_request(owner))]
    for action in tagging:
        if action in TAG_ON_CREATE:
            key, during = TAG_ON_CREATE[action]
            verbs = sorted(a.split(":")[1] for a in during)
            condition = {**_tagged_request(owner), "StringEquals": {key: verbs}}
        else:  # ECR has no create-action key: the request's tags must be ours
            condition = _tagged_request(owner)
        out.append(statement([action], Sid=f"{sid}TagOnCreate", Condition=condition))
    if "ec2:CreateTags" in actions:
        # A rolling update marks the owned instances it detaches (escala.ops.cloud_groups).
        retag = _tagged_request(owner)
        retag["StringLike"][f"aws:ResourceTag/{CLUSTER_TAG}"] = owner
        out.append(statement(["ec2:CreateTags"], Sid=f"{sid}RetagOwned", Condition=retag))
    out.append(statement(owned, Sid=f"{sid}Owned", Condition=_owned(owner)))
    return out


def policy_documents(
    owner: str = "*", state_bucket: str | None = None
) -> dict[str, dict[str, Any]]:
    """The operator's managed policies by name: every action escala calls, each once."""
    actions = operator_iam_actions()
    reads = [a for a in actions if _is_read(a)]
    writes = [a for a in actions if not _is_read(a)]
    unscoped = [a for a in writes if a in UNSCOPED]
    scoped = [a for a in writes if a not in UNSCOPED]
    bucket = state_bucket or "*"
    log_group = f"arn:aws:logs:*:*:log-group:{log_group_name(owner)}"
    logs = [log_group, f"{log_group}:*"]  # some Logs actions name the `:*` form
    alarms = ["arn:aws:cloudwatch:*:*:alarm:TargetTracking-*"]
    run_shell = "arn:aws:ssm:*::document/AWS-RunShellScript"
    ssm_send = [
        statement(["ssm:SendCommand"], run_shell, Sid="RunShell"),
        statement(
            ["ssm:SendCommand"], "arn:aws:ec2:*:*:instance/*", Sid="OnOwnInstances",
            Condition=_owned(owner),
        ),
    ]  # fmt: skip
    general = [
        statement(reads, Sid="Read"),
        statement(unscoped, Sid="Unscoped"),
        statement(
            _pick(scoped, "s3"),
            [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            Sid="StateBucket",
        ),
        *_iam_statements(_pick(scoped, "iam"), owner),
        statement(_pick(scoped, "logs"), logs, Sid="OwnLogGroups"),
        statement([a for a in scoped if a in ALARM_ACTIONS], alarms, Sid="TargetTrackingAlarms"),
        *ssm_send,
    ]
    documents = {
        "escala-operator": general,
        "escala-operator-ec2": _tagging_statements(_pick(scoped, "ec2"), owner, "Ec2"),
        "escala-operator-services": [
            *_tagging_statements(_pick(scoped, "elasticloadbalancing"), owner, "Elb"),
            *_tagging_statements(_pick(scoped, "autoscaling"), owner, "Asg"),
            *_tagging_statements(_pick(scoped, "ecs"), owner, "Ecs"),
            *_tagging_statements(_pick(scoped, "ecr"), owner, "Ecr"),
        ],
    }
    return {
        name: {"Version": "2012-10-17", "Statement": [s for s in statements if s["Action"]]}
        for name, statements in documents.items()
    }
