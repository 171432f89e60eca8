"""`escala delete cluster --name N [--yes]`."""

import typer

from escala.cli import verbs
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console
from escala.cli.plan_output import (
    CLUSTER_ARGUMENT,
    NAME_OPTION,
    STATE_OPTION,
    ClusterChangeOptions,
    cluster_name,
    print_plan,
    step_progress,
)
from escala.cloud.aws.session import ClientFactory
from escala.ops.delete_cluster import delete_cluster
from escala.state import open_store


@verbs.delete.command("cluster")
def delete_cluster_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete (else: list what would go)."),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Delete every AWS resource the cluster owns (by tag), then its state-store entry."""
    options = ClusterChangeOptions(cluster_name(cluster, name), yes, state, output)
    store = open_store(options.state)
    region = (
        store.get_cluster(options.name).spec.region if store.has_cluster(options.name) else None
    )
    doing = "Deleting" if options.yes else "Finding"
    with step_progress(f"{doing} the AWS resources {options.name} owns") as on_step:
        plan = delete_cluster(
            store, options.name, ClientFactory(region=region), yes=options.yes, on_step=on_step
        )
    print_plan(plan, options.output, "Must specify --yes to delete the cluster")
    if plan.applied and options.output is OutputFormat.table:
        console.print(f"Deleted cluster: {options.name!r}")
