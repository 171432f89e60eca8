"""`escala iam create-operator`: the IAM group, policy, user and access key of an operator.

The seed attaches four *FullAccess policies; escala instead writes one customer-managed
policy granting exactly the actions its own commands call: the union of every AWS task's
`iam_actions` (escala.cloud.aws.registry), the day-2 calls of validate / rolling-update
(escala.ops.cloud_groups) and export kubeconfig / access grant (escala.kube.kubeconfig),
the chat services' SSM parameter check (escala.model.chat_service.parameters), plus the state
bucket's S3 actions. Everything is
idempotent: a re-run updates the policy if escala's needs changed and keeps a working
access key. The secret key goes only to an AWS shared-credentials file (mode 0600).
"""

import configparser
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws import instance_types, zones
from escala.cloud.aws.registry import operator_iam_actions
from escala.errors import CloudError, UsageError
from escala.kube import kubeconfig
from escala.model.chat_service import parameters
from escala.ops import cloud_groups
from escala.ops.state_bucket import STATE_BUCKET_ACTIONS
from escala.private_files import write_private

POLICY_NAME = "escala-operator"
# IAM keeps at most 5 versions of a managed policy.
_MAX_POLICY_VERSIONS = 5


def operator_actions() -> list[str]:
    """Every action escala's commands call, sorted: the operator policy's contents."""
    return sorted(
        {
            *operator_iam_actions(),
            *cloud_groups.IAM_ACTIONS,
            *kubeconfig.IAM_ACTIONS,
            *STATE_BUCKET_ACTIONS,
            *parameters.IAM_ACTIONS,
            *zones.IAM_ACTIONS,
            *instance_types.IAM_ACTIONS,
        }
    )


def policy_document() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EscalaOperator",
                "Effect": "Allow",
                "Action": operator_actions(),
                "Resource": "*",
            }
        ],
    }


@dataclasses.dataclass
class OperatorOptions:
    user: str
    group: str
    credentials_file: Path
    profile: str


@dataclasses.dataclass
class OperatorResult:
    user: str
    group: str
    policy_arn: str
    actions: int
    access_key_id: str
    key_created: bool
    credentials_file: Path
    profile: str


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _ensure(call: Any, *, exists: str = "EntityAlreadyExists", **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as e:
        if _code(e) != exists:
            raise


def _ensure_policy(iam: Any) -> str:
    """Create the managed policy, or make its default version match escala's needs."""
    document = json.dumps(policy_document(), separators=(",", ":"))
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            if policy["PolicyName"] == POLICY_NAME:
                arn = str(policy["Arn"])
                _update_policy(iam, arn, policy["DefaultVersionId"], document)
                return arn
    created = iam.create_policy(
        PolicyName=POLICY_NAME,
        PolicyDocument=document,
        Description="What escala's own commands call (escala iam create-operator)",
    )
    return str(created["Policy"]["Arn"])


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


def _read_credentials(path: Path) -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None)
    if path.exists():
        try:
            config.read(path)
        except configparser.Error as e:
            raise UsageError(
                f"--credentials-file: {path} is not an AWS credentials file: {e}"
            ) from e
    return config


def write_credentials(path: Path, profile: str, key_id: str, secret: str) -> None:
    """Set one profile in a shared-credentials file, keeping the others; mode 0600."""
    config = _read_credentials(path)
    if not config.has_section(profile):
        config.add_section(profile)
    config[profile]["aws_access_key_id"] = key_id
    config[profile]["aws_secret_access_key"] = secret
    text = io.StringIO()
    config.write(text)
    write_private(path, text.getvalue().encode())


def _ensure_access_key(iam: Any, options: OperatorOptions) -> tuple[str, bool]:
    """Keep the profile's key if it is one of the user's; else make one and write it."""
    keys = {
        k["AccessKeyId"] for k in iam.list_access_keys(UserName=options.user)["AccessKeyMetadata"]
    }
    config = _read_credentials(options.credentials_file)
    if config.has_section(options.profile):
        current = config[options.profile].get("aws_access_key_id")
        if current in keys:
            return str(current), False
    if len(keys) >= 2:
        raise UsageError(
            f"--user: {options.user} already has 2 access keys (the AWS limit) and neither is "
            f"in profile {options.profile} of {options.credentials_file}; delete one with "
            f"`aws iam delete-access-key --user-name {options.user} --access-key-id ...`"
        )
    key = iam.create_access_key(UserName=options.user)["AccessKey"]
    write_credentials(
        options.credentials_file, options.profile, key["AccessKeyId"], key["SecretAccessKey"]
    )
    return str(key["AccessKeyId"]), True


def create_operator(iam: Any, options: OperatorOptions) -> OperatorResult:
    """Group + policy + user + access key, each created only if missing."""
    doing = f"creating IAM group {options.group}"
    try:
        _ensure(iam.create_group, GroupName=options.group)
        doing = f"creating IAM policy {POLICY_NAME}"
        arn = _ensure_policy(iam)
        iam.attach_group_policy(GroupName=options.group, PolicyArn=arn)
        doing = f"creating IAM user {options.user}"
        _ensure(iam.create_user, UserName=options.user)
        iam.add_user_to_group(GroupName=options.group, UserName=options.user)
        doing = f"creating an access key for {options.user}"
        key_id, created = _ensure_access_key(iam, options)
    except ClientError as e:
        raise CloudError(f"{doing}: {_code(e) or e}") from e
    return OperatorResult(
        user=options.user,
        group=options.group,
        policy_arn=arn,
        actions=len(operator_actions()),
        access_key_id=key_id,
        key_created=created,
        credentials_file=options.credentials_file,
        profile=options.profile,
    )
