"""`escala iam create-operator`: the IAM group, policy, user and access key of an operator.

The seed attaches four *FullAccess policies; escala instead writes customer-managed
policies granting exactly the actions its own commands call, each scoped to the resources
escala owns (escala.ops.operator_policy): the union of every AWS task's
`iam_actions` and the day-2 calls beside them in escala.cloud.aws (validate and
rolling-update's ASG and instance calls, export kubeconfig's load balancer lookup, the
chat services' SSM parameter check, the state bucket's S3 actions), gathered by
`escala.cloud.aws.registry.operator_iam_actions`. The IAM calls are
escala.cloud.aws.iam_user's. Everything is
idempotent: a re-run updates the policy if escala's needs changed and keeps a working
access key. The secret key goes only to an AWS shared-credentials file (mode 0600).
"""

import configparser
import dataclasses
import io
from pathlib import Path

from escala.cloud.aws import iam_user
from escala.cloud.aws.registry import operator_iam_actions
from escala.cloud.aws.session import ClientFactory
from escala.errors import UsageError
from escala.ops.operator_policy import policy_documents
from escala.private_files import write_private


def operator_actions() -> list[str]:
    """Every action escala's commands call, sorted: the operator policies' contents."""
    return operator_iam_actions()


@dataclasses.dataclass
class OperatorOptions:
    user: str
    group: str
    credentials_file: Path
    profile: str
    owner: str = "*"  # the cluster/chat-service names (a glob) the operator may change
    state_bucket: str | None = None  # None: every bucket (no state store was named)


@dataclasses.dataclass
class OperatorResult:
    user: str
    group: str
    policy_arns: list[str]
    actions: int
    access_key_id: str
    key_created: bool
    credentials_file: Path
    profile: str


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


def _ensure_access_key(aws: ClientFactory, options: OperatorOptions) -> tuple[str, bool]:
    """Keep the profile's key if it is one of the user's; else make one and write it."""
    keys = iam_user.access_key_ids(aws, options.user)
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
    key_id, secret = iam_user.create_access_key(aws, options.user)
    write_credentials(options.credentials_file, options.profile, key_id, secret)
    return key_id, True


def create_operator(aws: ClientFactory, options: OperatorOptions) -> OperatorResult:
    """Group + policies + user + access key, each created only if missing."""
    iam_user.ensure_group(aws, options.group)
    arns = [
        iam_user.ensure_group_policy(
            aws,
            options.group,
            name,
            document,
            "What escala's own commands call, on what escala owns (escala iam create-operator)",
        )
        for name, document in policy_documents(options.owner, options.state_bucket).items()
    ]
    iam_user.ensure_user_in_group(aws, options.user, options.group)
    key_id, created = _ensure_access_key(aws, options)
    return OperatorResult(
        user=options.user,
        group=options.group,
        policy_arns=arns,
        actions=len(operator_actions()),
        access_key_id=key_id,
        key_created=created,
        credentials_file=options.credentials_file,
        profile=options.profile,
    )
