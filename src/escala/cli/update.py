"""`escala update cluster [--yes]`."""

import dataclasses

import typer

from escala.cli import verbs
from escala.cli.output import OUTPUT_OPTION, OutputFormat
from escala.cli.plan_output import print_plan
from escala.cloud.aws.session import ClientFactory
from escala.ops.update import update_cluster
from escala.state import open_store

NAME_OPTION = typer.Option(
    ..., "--name", envvar="ESCALA_CLUSTER_NAME", help="The cluster's name (ESCALA_CLUSTER_NAME)."
)
STATE_OPTION = typer.Option(None, "--state", help="State store URL (default: $ESCALA_STATE_STORE).")


@dataclasses.dataclass
class UpdateOptions:
    name: str
    yes: bool
    state: str | None
    output: OutputFormat


@verbs.update.command("cluster")
def update_cluster_command(
    name: str = NAME_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply the changes (else: dry run)."),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Plan the AWS resources the cluster's spec needs; apply them with --yes."""
    options = UpdateOptions(name, yes, state, output)
    store = open_store(options.state)
    region = store.get_cluster(options.name, completed=True).spec.region
    plan = update_cluster(store, options.name, ClientFactory(region=region), yes=options.yes)
    print_plan(plan, options.output, "Must specify --yes to apply changes")
