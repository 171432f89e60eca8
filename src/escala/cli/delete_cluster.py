"""`escala delete cluster --name N [--yes]`."""

import typer

from escala.cli import verbs
from escala.cli.image import KEEP_IMAGE_REPOSITORY_OPTION
from escala.cli.naming import CLUSTER_ARGUMENT, NAME_OPTION, STATE_OPTION, cluster_name
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, table
from escala.cli.plan_output import ClusterChangeOptions, print_plan, step_progress
from escala.state import open_store


@verbs.delete.command("cluster")
def delete_cluster_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete (else: list what would go)."),
    keep_image_repository: bool = KEEP_IMAGE_REPOSITORY_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
    delete_retained: bool = typer.Option(
        False,
        "--delete-retained-volumes",
        help="Delete the retained volumes too (gp3-retain claims, `escala create volume`).",
    ),
) -> None:
    """Delete every AWS resource the cluster owns (by tag), then its state-store entry.
    Retained volumes stay unless told, shared ones always; both are listed."""
    from escala.cloud.aws.session import ClientFactory
    from escala.ops.cluster_volumes import volumes_to_keep
    from escala.ops.delete_cluster import delete_cluster

    options = ClusterChangeOptions(cluster_name(cluster, name), yes, state, output)
    store = open_store(options.state)
    region = (
        store.get_cluster(options.name).spec.region if store.has_cluster(options.name) else None
    )
    clients = ClientFactory(region=region)
    doing = "Deleting" if options.yes else "Finding"
    with step_progress(f"{doing} the AWS resources {options.name} owns") as on_step:
        kept = volumes_to_keep(clients, options.name, delete_retained)
        ids = [k.volume.id for k in kept]
        plan = delete_cluster(
            store,
            options.name,
            clients,
            yes=options.yes,
            keep_volumes=ids,
            keep_image_repository=keep_image_repository,
            on_step=on_step,
        )
    if options.output is not OutputFormat.table:
        emit({**plan.to_dict(), "kept": [k.to_dict() for k in kept]}, options.output, lambda: None)
        return
    print_plan(plan, options.output, "Must specify --yes to delete the cluster")
    if kept:
        verb = "Kept" if plan.applied else "Will keep"
        console.print(f"\n{verb} {len(kept)} volume(s):")
        rows = [[k.volume.name, k.volume.id, k.volume.zone, k.reason] for k in kept]
        console.print(table(["NAME", "ID", "ZONE", "WHY"], rows))
    if plan.applied:
        console.print(f"Deleted cluster: {options.name!r}")
