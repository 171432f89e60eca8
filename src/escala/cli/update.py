"""`escala update cluster [--yes]`."""

import typer

from escala.cli import verbs
from escala.cli.naming import CLUSTER_ARGUMENT, NAME_OPTION, STATE_OPTION, cluster_name
from escala.cli.output import OUTPUT_OPTION, OutputFormat
from escala.cli.plan_output import ClusterChangeOptions, print_plan, step_progress
from escala.state import open_store


@verbs.update.command("cluster")
def update_cluster_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply the changes (else: dry run)."),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Plan the AWS resources the cluster's spec needs; apply them with --yes."""
    from escala.cloud.aws.session import ClientFactory
    from escala.ops.update import update_cluster

    options = ClusterChangeOptions(cluster_name(cluster, name), yes, state, output)
    store = open_store(options.state)
    region = store.get_cluster(options.name, completed=True).spec.region
    doing = "Applying" if options.yes else "Planning"
    with step_progress(f"{doing} the AWS resources of {options.name}") as on_step:
        plan = update_cluster(
            store, options.name, ClientFactory(region=region), yes=options.yes, on_step=on_step
        )
    print_plan(plan, options.output, "Must specify --yes to apply changes")
