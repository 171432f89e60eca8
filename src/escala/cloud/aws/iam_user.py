"""IAM groups, customer-managed policies, users and access keys: the calls behind
`escala iam create-operator` (escala.ops.iam_operator). Each is idempotent; a failure is
a CloudError saying what escala was creating."""

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError
from escala.reconcile.retry import error_code

# IAM keeps at most 5 versions of a managed policy.
_MAX_POLICY_VERSIONS = 5


@contextlib.contextmanager
def _doing(what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as e:
        raise CloudError(f"{what}: {error_code(e) or e}") from e


def _ensure(call: Any, *, exists: str = "EntityAlreadyExists", **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as e:
        if error_code(e) != exists:
            raise


def ensure_group(aws: ClientFactory, group: str) -> None:
    with _doing(f"creating IAM group {group}"):
        _ensure(aws.client("iam").create_group, GroupName=group)


def ensure_group_policy(
    aws: ClientFactory, group: str, name: str, document: dict[str, Any], description: str
) -> str:
    """Create the managed policy, or make its default version `document`; attach it to
    the group. Returns its ARN."""
    iam = aws.client("iam")
    text = json.dumps(document, separators=(",", ":"))
    with _doing(f"creating IAM policy {name}"):
        arn = _find_policy(iam, name, text)
        if arn is None:
            created = iam.create_policy(
                PolicyName=name, PolicyDocument=text, Description=description
            )
            arn = str(created["Policy"]["Arn"])
        iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    return arn


def _find_policy(iam: Any, name: str, document: str) -> str | None:
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            if policy["PolicyName"] == name:
                arn = str(policy["Arn"])
                _update_policy(iam, arn, policy["DefaultVersionId"], document)
                return arn
    return None


def _update_policy(iam: Any, arn: str, default_version: str, document: str) -> None:
    current = iam.get_policy_version(PolicyArn=arn, VersionId=default_version)
    stored = current["PolicyVersion"]["Document"]
    if isinstance(stored, str):
        stored = json.loads(stored)
    if stored == json.loads(document):
        return
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= _MAX_POLICY_VERSIONS:
        oldest = min(
            (v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"]
        )
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)


def ensure_user_in_group(aws: ClientFactory, user: str, group: str) -> None:
    iam = aws.client("iam")
    with _doing(f"creating IAM user {user}"):
        _ensure(iam.create_user, UserName=user)
        iam.add_user_to_group(GroupName=group, UserName=user)


def access_key_ids(aws: ClientFactory, user: str) -> set[str]:
    with _doing(f"creating an access key for {user}"):
        keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {k["AccessKeyId"] for k in keys}


def create_access_key(aws: ClientFactory, user: str) -> tuple[str, str]:
    """A new key of the user: (access key ID, secret). The secret is never logged."""
    with _doing(f"creating an access key for {user}"):
        key = aws.client("iam").create_access_key(UserName=user)["AccessKey"]
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])
