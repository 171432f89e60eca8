"""`escala create|get|delete volume` and `escala create persistentvolume`: EBS volumes for
a cluster, and their way into it as a PersistentVolume bound to a claim."""

from typing import TYPE_CHECKING

import typer

from escala.cli import verbs
from escala.cli.naming import STATE_OPTION
from escala.cli.output import (
    OUTPUT_OPTION,
    OutputFormat,
    apply_or_print_option,
    console,
    emit,
    err_console,
    table,
)
from escala.cli.plan_output import print_plan
from escala.cli.validate import KUBECONFIG_OPTION, NAME_OPTION, ClusterTarget

if TYPE_CHECKING:
    from escala.cloud.aws.volume_inventory import VolumeInfo

VOLUME_ARGUMENT = typer.Argument(..., help="The volume's name in the cluster (e.g. chat-history).")
YES_OPTION = typer.Option(False, "--yes", "-y", help="Do it (else: print the plan).")


@verbs.create.command("volume")
def create_volume_command(
    volume: str = VOLUME_ARGUMENT,
    zone: str = typer.Option(..., "--zone", help="One of the cluster's zones, e.g. eu-west-1a."),
    size: int = typer.Option(..., "--size", help="Size in GiB."),
    volume_type: str = typer.Option("gp3", "--type", help="gp3, gp2, st1 or sc1."),
    iops: int | None = typer.Option(
        None, "--iops", help="gp3 only: 3000..80000 IOPS, at most 500 per GiB."
    ),
    throughput: int | None = typer.Option(
        None, "--throughput", help="gp3 only: 125..2000 MiB/s, at most 1 per 4 IOPS."
    ),
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    yes: bool = YES_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Create an encrypted EBS volume in one of the cluster's zones, owned by the cluster
    and retained by `delete cluster` unless told. Then `escala create persistentvolume`."""
    from escala.ops.volumes import VolumeRequest, create_volume

    target = ClusterTarget.resolve(name, state, None)
    cluster = target.store.get_cluster(target.name, completed=True)
    request = VolumeRequest(target.name, volume, zone, size, volume_type, iops, throughput)
    plan = create_volume(target.aws(), request, cluster, yes=yes)
    print_plan(plan, output, "Must specify --yes to create the volume")
    if plan.applied and output is OutputFormat.table:
        console.print(
            f"Next: `escala create persistentvolume {volume} --name {target.name}` puts it "
            "in the cluster, bound to a claim of the same name."
        )


def _rows(volumes: "list[VolumeInfo]") -> list[list[object]]:
    return [
        [v.name, v.id, v.zone, v.size, v.volume_type, v.iops, v.throughput, v.state,
         v.origin, "owned" if v.owned else "shared", v.claim or ""]
        for v in volumes
    ]  # fmt: skip


@verbs.get.command("volumes")
def get_volumes_command(
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List the EBS volumes tagged for the cluster: etcd's, static ones, and those the
    EBS CSI driver made for claims."""
    from escala.ops.volumes import list_volumes

    target = ClusterTarget.resolve(name, state, None)
    volumes = list_volumes(target.aws(), target.name)
    columns = ["NAME", "ID", "ZONE", "SIZE", "TYPE", "IOPS", "THROUGHPUT", "STATE", "ORIGIN",
               "OWNERSHIP", "CLAIM"]  # fmt: skip
    emit([v.to_dict() for v in volumes], output, lambda: table(columns, _rows(volumes)))


@verbs.delete.command("volume")
def delete_volume_command(
    volume: str = VOLUME_ARGUMENT,
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    yes: bool = YES_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Delete a static volume (refused while it is attached)."""
    from escala.ops.volumes import delete_volume

    target = ClusterTarget.resolve(name, state, None)
    plan = delete_volume(target.aws(), target.name, volume, yes=yes)
    print_plan(plan, output, "Must specify --yes to delete the volume")


@verbs.create.command("persistentvolume")
def create_persistent_volume_command(
    volume: str = VOLUME_ARGUMENT,
    namespace: str = typer.Option("default", "--namespace", "-n", help="The claim's namespace."),
    claim: str | None = typer.Option(None, "--claim", help="The claim's name (default: NAME)."),
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    output: OutputFormat = apply_or_print_option("the PersistentVolume and its claim"),
) -> None:
    """Put a volume made with `escala create volume` into the cluster: a PersistentVolume
    for it (the EBS CSI driver, its ID, its zone) and a claim bound to it."""
    from escala.kube.static_volume import static_volume_objects
    from escala.ops.volumes import static_volume

    target = ClusterTarget.resolve(name, state, kubeconfig)
    objects = static_volume_objects(
        static_volume(target.aws(), target.name, volume, namespace, claim)
    )
    if output is not OutputFormat.table:
        emit(objects, output, lambda: None)
        return
    kube = target.kube()
    try:
        results = [(obj, kube.apply(obj)) for obj in objects]
        live = kube.get(objects[-1]) or {}
    finally:
        kube.close()
    console.print(
        table(
            ["KIND", "NAMESPACE", "NAME", "RESULT"],
            [[o["kind"], o["metadata"].get("namespace", "(cluster)"), o["metadata"]["name"], r]
             for o, r in results],
        )
    )  # fmt: skip
    phase = live.get("status", {}).get("phase", "unknown")
    claim_name = objects[-1]["metadata"]["name"]
    err_console.print(f"claim {namespace}/{claim_name}: {phase}", highlight=False)
