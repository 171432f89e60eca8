"""`escala iam create-operator`: the operator's IAM group, policy, user and access key."""

from pathlib import Path

import typer

from escala.cli.output import OUTPUT_OPTION, OutputFormat, emit, table
from escala.cloud.aws.session import ClientFactory
from escala.ops.iam_operator import OperatorOptions, create_operator

iam = typer.Typer(
    help="AWS IAM groundwork: the operator user escala runs as.", no_args_is_help=True
)

DEFAULT_CREDENTIALS = Path("~/.aws/credentials")


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
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Create (or bring up to date) an operator with least-privilege access; its secret
    key is written to the credentials file (mode 0600), never printed."""
    options = OperatorOptions(
        user, group, credentials_file.expanduser().absolute(), profile or user
    )
    result = create_operator(ClientFactory(), options)
    data = {
        "user": result.user,
        "group": result.group,
        "policy": result.policy_arn,
        "actions": result.actions,
        "accessKeyId": result.access_key_id,
        "keyCreated": result.key_created,
        "credentialsFile": str(result.credentials_file),
        "profile": result.profile,
    }
    emit(data, output, lambda: table(["FIELD", "VALUE"], list(data.items())))
    if output is OutputFormat.table:
        if options.credentials_file != DEFAULT_CREDENTIALS.expanduser().absolute():
            typer.echo(f"export AWS_SHARED_CREDENTIALS_FILE={options.credentials_file}")
        typer.echo(f"export AWS_PROFILE={result.profile}")
