"""`escala delete cluster --name N [--yes]`."""

import typer

from escala.cli import verbs
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, err_console
from escala.cli.plan_output import NAME_OPTION, STATE_OPTION, ClusterChangeOptions, print_plan
from escala.cloud.aws.session import ClientFactory
from escala.ops.delete_cluster import delete_cluster
from escala.state import open_store


@verbs.delete.command("cluster")
def delete_cluster_command(
    name: str = NAME_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete (else: list what would go)."),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Delete every AWS resource the cluster owns (by tag), then its state-store entry."""
    options = ClusterChangeOptions(name, yes, state, output)
    store = open_store(options.state)
    region = (
        store.get_cluster(options.name).spec.region if store.has_cluster(options.name) else None
    )
    doing = "Deleting" if options.yes else "Finding"
    with err_console.status(f"{doing} the AWS resources {options.name} owns..."):
        plan = delete_cluster(store, options.name, ClientFactory(region=region), yes=options.yes)
    print_plan(plan, options.output, "Must specify --yes to delete the cluster")
    if plan.applied and options.output is OutputFormat.table:
        console.print(f"Deleted cluster: {options.name!r}")
