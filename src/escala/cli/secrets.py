"""`escala get secrets`: names, types and fingerprints of a cluster's secrets."""

from dataclasses import asdict

import typer

from escala.cli import verbs
from escala.cli.naming import STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, emit, table
from escala.state import open_store


@verbs.get.command("secrets")
def get_secrets(
    name: str = typer.Option(..., "--name", envvar="ESCALA_CLUSTER_NAME", help="Cluster name."),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List the cluster's keys, certificates and tokens (never their contents)."""
    from escala.bootstrap.secrets import list_secrets

    found = [asdict(s) for s in list_secrets(open_store(state), name)]
    emit(
        found,
        output,
        lambda: table(
            ["NAME", "TYPE", "SHA256"], [(s["name"], s["type"], s["fingerprint"]) for s in found]
        ),
    )
