"""`escala rolling-update cluster`: show what needs replacing; with --yes, replace it."""

from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from escala.cli import verbs
from escala.cli.output import OUTPUT_OPTION, OutputFormat, emit, err_console, table
from escala.cli.validate import (
    CLUSTER_ARGUMENT,
    KUBECONFIG_OPTION,
    NAME_OPTION,
    STATE_OPTION,
    ClusterTarget,
    parse_duration,
)
from escala.errors import KubernetesUnreachable

if TYPE_CHECKING:
    from escala.ops.rolling_update import GroupStatus

COLUMNS = ["NAME", "STATUS", "NEEDUPDATE", "READY", "MIN", "TARGET", "MAX", "NODES"]


def _row(s: "GroupStatus") -> list[object]:
    nodes = "-" if s.nodes is None else s.nodes
    return [s.name, s.status, s.need_update, s.ready, s.min, s.target, s.max, nodes]


@verbs.rolling_update.command("cluster")
def rolling_update_cluster(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Replace instances (default: dry run)."),
    instance_group: list[str] = typer.Option(
        [], "--instance-group", help="Only these instance groups (repeatable, or comma-separated)."
    ),
    cloud_only: bool = typer.Option(
        False, "--cloudonly", help="Skip the Kubernetes API: no drain, no validation."
    ),
    force: bool = typer.Option(False, "--force", help="Replace every instance, stale or not."),
    max_surge: int = typer.Option(
        0, "--max-surge", help="Node groups: launch up to N replacements before draining."
    ),
    validation_timeout: str = typer.Option(
        "15m", "--validation-timeout", help="How long the cluster may take to validate."
    ),
    drain_timeout: str = typer.Option(
        "5m", "--drain-timeout", help="How long draining one node may take."
    ),
    interval: str = typer.Option("10s", "--interval", help="Pause between checks."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Replace out-of-date instances, control plane first, one at a time, without downtime."""
    from escala.ops.rolling_update import RollingUpdateOptions, plan_rolling_update, rolling_update

    target = ClusterTarget.resolve(cluster or name, state, kubeconfig, positional=True)
    options = RollingUpdateOptions(
        cluster_name=target.name,
        instance_groups=instance_group,
        cloud_only=cloud_only,
        force=force,
        max_surge=max_surge,
        validation_timeout=parse_duration(validation_timeout, "--validation-timeout"),
        drain_timeout=parse_duration(drain_timeout, "--drain-timeout"),
        poll_interval=parse_duration(interval, "--interval"),
    )
    groups = target.store.list_instance_groups(target.name)
    aws = target.aws()
    kube = None if cloud_only else target.kube()
    try:
        plan = plan_rolling_update(options, groups, aws, kube)
    except KubernetesUnreachable as e:
        raise KubernetesUnreachable(
            f"{e} To replace instances of a cluster whose API is down, "
            "run `escala rolling-update cluster --cloudonly` (no drain, no validation)."
        ) from e
    emit([s.to_dict() for s in plan], output, lambda: table(COLUMNS, [_row(s) for s in plan]))
    if not any(s.need_update for s in plan):
        err_console.print("\nNo rolling-update required.")
        return
    if not yes:
        err_console.print("\nMust specify --yes to rolling-update.")
        return
    report = rolling_update(
        options,
        groups,
        aws,
        kube,
        log=lambda message: err_console.print(escape(message), highlight=False),
    )
    err_console.print(
        f"Rolling update completed for cluster {target.name!r}: "
        f"{len(report.replaced)} instance(s) replaced."
    )
