"""`escala create parameter NAME`: store a URL with a password in it (the chat service's
Redis or PostgreSQL URL) as an SSM SecureString, with no AWS CLI needed.

The value is read without echo from the terminal, or from standard input when piped,
and never printed: not in the output, not in an error.
"""

import getpass
import sys

import typer

from escala.cli import verbs
from escala.cli.output import console
from escala.errors import UsageError


def read_secret(prompt: str) -> str:
    """The secret typed at a hidden prompt, or piped in (one line, newline stripped)."""
    value = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()
    value = value.rstrip("\r\n")
    if not value:
        raise UsageError(
            "the parameter's value is empty; type it at the prompt, or pipe it in, e.g. "
            'printf %s "$REDIS_URL" | escala create parameter /escala/chat/redis'
        )
    return value


@verbs.create.command("parameter")
def create_parameter_command(
    name: str = typer.Argument(..., help="The SSM parameter, e.g. /escala/chat/redis."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing value."),
) -> None:
    """Store a secret (typed hidden, or piped in) as an SSM SecureString parameter."""
    from escala.cloud.aws.session import ClientFactory
    from escala.cloud.aws.ssm_parameter import put_secure_parameter

    if not name.strip() or " " in name:
        raise UsageError(f"NAME: {name!r} is not an SSM parameter name, e.g. /escala/chat/redis")
    clients = ClientFactory()
    value = read_secret(f"Value of {name} (not shown): ")
    version = put_secure_parameter(clients, name, value, overwrite=overwrite)
    console.print(
        f"SSM parameter {name} stored as a SecureString in {clients.region} (version {version})",
        highlight=False,
    )
