"""An IAM role for the instances of one role (masters or nodes) with its inline policy.

IAM is global and does not filter by tag, so `discover` lists roles named
`*.<cluster>` and keeps those whose tags say the cluster owns them.
"""

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws.session import ClientFactory, unless_gone
from escala.cloud.aws.tags import as_dict, as_list, is_owned
from escala.reconcile.retry import is_not_found
from escala.reconcile.task import FieldChange, Fields, Owned, Task

EC2 = "ec2.amazonaws.com"
ECS_TASKS = "ecs-tasks.amazonaws.com"


def trust_policy(service: str) -> dict[str, Any]:
    """The policy that lets `service` (EC2 instances, ECS tasks) assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def iam_names(cloud: ClientFactory, lister: str, key: str, cluster_name: str) -> Iterator[str]:
    """Names of the IAM roles / instance profiles that end with `.<cluster>`."""
    for page in cloud.client("iam").get_paginator(lister).paginate():
        for item in page[key]:
            name = item[key[:-1] + "Name"]
            if name.endswith(f".{cluster_name}"):
                yield name


def policy_digest(policy: dict[str, Any] | None) -> str | None:
    """What the plan shows of a policy: its size and a hash of its canonical JSON."""
    if policy is None:
        return None
    statements = policy.get("Statement", [])
    actions = sum(len(s.get("Action", [])) for s in statements if isinstance(s, dict))
    canonical = json.dumps(policy, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(canonical).hexdigest()[:12]
    return f"{len(statements)} statements, {actions} actions (sha256:{digest})"


@dataclasses.dataclass(eq=False, kw_only=True)
class IamRole(Task):
    kind = "IAMRole"
    iam_actions = (
        "iam:GetRole",
        "iam:CreateRole",
        "iam:TagRole",
        "iam:ListRoles",
        "iam:ListRoleTags",
        "iam:GetRolePolicy",
        "iam:PutRolePolicy",
        "iam:ListRolePolicies",
        "iam:DeleteRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:DetachRolePolicy",
        "iam:ListInstanceProfilesForRole",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:DeleteRole",
    )

    policy: dict[str, Any]
    # Who wears the role: instances (through an instance profile) or ECS tasks.
    trusted_service: str = EC2

    def desired(self) -> Fields:
        return {"policy": policy_digest(self.policy)}

    def find(self, cloud: ClientFactory) -> Fields | None:
        iam = cloud.client("iam")
        try:
            role = iam.get_role(RoleName=self.name)["Role"]
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        self.id = role["Arn"]
        try:
            policy = iam.get_role_policy(RoleName=self.name, PolicyName=self.name)["PolicyDocument"]
        except ClientError as e:
            if not is_not_found(e):
                raise
            policy = None
        if isinstance(policy, str):
            policy = json.loads(policy)
        return {"policy": policy_digest(policy)}

    def create(self, cloud: ClientFactory) -> None:
        role = cloud.client("iam").create_role(
            RoleName=self.name,
            AssumeRolePolicyDocument=json.dumps(trust_policy(self.trusted_service)),
            Tags=as_list(self.tags),
        )["Role"]
        self.id = role["Arn"]
        self._put_policy(cloud)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        self._put_policy(cloud)

    def _put_policy(self, cloud: ClientFactory) -> None:
        cloud.client("iam").put_role_policy(
            RoleName=self.name, PolicyName=self.name, PolicyDocument=json.dumps(self.policy)
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        iam = cloud.client("iam")
        for name in iam.list_role_policies(RoleName=resource_id)["PolicyNames"]:
            unless_gone(iam.delete_role_policy, RoleName=resource_id, PolicyName=name)
        for attached in iam.list_attached_role_policies(RoleName=resource_id)["AttachedPolicies"]:
            unless_gone(
                iam.detach_role_policy, RoleName=resource_id, PolicyArn=attached["PolicyArn"]
            )
        for profile in iam.list_instance_profiles_for_role(RoleName=resource_id)[
            "InstanceProfiles"
        ]:
            unless_gone(
                iam.remove_role_from_instance_profile,
                InstanceProfileName=profile["InstanceProfileName"],
                RoleName=resource_id,
            )
        iam.delete_role(RoleName=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        iam = cloud.client("iam")
        return [
            Owned(cls.kind, name, name, cls.delete_id)
            for name in iam_names(cloud, "list_roles", "Roles", cluster_name)
            if is_owned(as_dict(iam.list_role_tags(RoleName=name)["Tags"]), cluster_name)
        ]
