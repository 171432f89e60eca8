"""`escala upgrade cluster`: propose or set a newer Kubernetes version in the spec."""

from typing import TYPE_CHECKING

import typer

from escala.cli import verbs
from escala.cli.naming import STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, emit, err_console, table
from escala.cli.validate import CLUSTER_ARGUMENT, NAME_OPTION, ClusterTarget

if TYPE_CHECKING:
    from escala.ops.upgrade import UpgradePlan


def _table(plan: "UpgradePlan") -> object:
    rows = [["Cluster", "KubernetesVersion", plan.current, plan.target]] if plan.changes else []
    return table(["ITEM", "PROPERTY", "OLD", "NEW"], rows)


@verbs.upgrade.command("cluster")
def upgrade_cluster_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    kubernetes_version: str | None = typer.Option(
        None,
        "--kubernetes-version",
        help="Target version (default: latest patch of the next supported minor).",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Write the new version to the spec."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Upgrade the cluster's Kubernetes version one minor at a time (no downgrades)."""
    from escala.ops.upgrade import upgrade_cluster

    target = ClusterTarget.resolve(cluster or name, state, None, positional=True)
    plan = upgrade_cluster(target.store, target.name, kubernetes_version, yes)
    data = {
        "cluster": plan.cluster,
        "current": plan.current,
        "target": plan.target,
        "applied": plan.applied,
    }
    emit(data, output, lambda: _table(plan))
    if not plan.changes:
        err_console.print(f"\nNo upgrade required: cluster {plan.cluster} runs {plan.current}.")
    elif not yes:
        err_console.print("\nMust specify --yes to perform upgrade")
    else:
        err_console.print(
            "\nUpdates applied to configuration. You can now apply these changes, using:\n"
            f"  escala update cluster --name {plan.cluster} --yes\n"
            f"  escala rolling-update cluster --name {plan.cluster} --yes"
        )
