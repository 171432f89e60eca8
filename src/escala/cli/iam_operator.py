"""`escala iam create-operator`: the operator's IAM group, policy, user and access key."""

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import typer

from escala.cli.output import OUTPUT_OPTION, OutputFormat, emit, table
from escala.errors import UsageError
from escala.state.base import STATE_STORE_ENV

iam = typer.Typer(
    help="AWS IAM groundwork: the operator user escala runs as.", no_args_is_help=True
)

DEFAULT_CREDENTIALS = Path("~/.aws/credentials")
OWNER_GLOB = re.compile(r"[A-Za-z0-9.*-]+")


def state_bucket(url: str | None) -> str | None:
    """The bucket of an s3:// state store; None for none or a file:// one."""
    parsed = urlparse(url or "")
    return parsed.netloc if parsed.scheme == "s3" and parsed.netloc else None


@iam.command("create-operator")
def create_operator_command(
    user: str = typer.Option(..., "--user", help="IAM user to create, e.g. escala."),
    group: str = typer.Option("escala-operators", "--group", help="IAM group for operators."),
    credentials_file: Path = typer.Option(
        DEFAULT_CREDENTIALS, "--credentials-file", help="AWS shared-credentials file to write."
    ),
    profile: str | None = typer.Option(
        None, "--profile", help="Profile for the new key (default: the user's name)."
    ),
    owner: str = typer.Option(
        "*",
        "--owner",
        help="Cluster and chat-service names the operator may change (a glob, e.g. 'prod-*').",
    ),
    state: str | None = typer.Option(
        None,
        "--state",
        help="State store URL (default: $ESCALA_STATE_STORE): S3 access is limited to its bucket.",
    ),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Create (or bring up to date) an operator with least-privilege access; its secret
    key is written to the credentials file (mode 0600), never printed."""
    from escala.cloud.aws.session import ClientFactory
    from escala.ops.iam_operator import OperatorOptions, create_operator

    if not OWNER_GLOB.fullmatch(owner):
        raise UsageError(
            f"--owner: {owner!r} is not a glob of cluster names (letters, digits, '.', '-', "
            "'*'); e.g. --owner 'prod-*'"
        )
    options = OperatorOptions(
        user,
        group,
        credentials_file.expanduser().absolute(),
        profile or user,
        owner=owner,
        state_bucket=state_bucket(state or os.environ.get(STATE_STORE_ENV)),
    )
    result = create_operator(ClientFactory(), options)
    data = {
        "user": result.user,
        "group": result.group,
        "policies": result.policy_arns,
        "owner": options.owner,
        "stateBucket": options.state_bucket or "*",
        "actions": result.actions,
        "accessKeyId": result.access_key_id,
        "keyCreated": result.key_created,
        "credentialsFile": str(result.credentials_file),
        "profile": result.profile,
    }
    rows = [(k, "\n".join(v) if isinstance(v, list) else v) for k, v in data.items()]
    emit(data, output, lambda: table(["FIELD", "VALUE"], rows))
    if output is OutputFormat.table:
        if options.credentials_file != DEFAULT_CREDENTIALS.expanduser().absolute():
            typer.echo(f"export AWS_SHARED_CREDENTIALS_FILE={options.credentials_file}")
        typer.echo(f"export AWS_PROFILE={result.profile}")
