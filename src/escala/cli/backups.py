"""`escala get backups` and `escala restore etcd`: the masters' etcd backups in the state
store, and putting one back (docs/volumes.md#etcd-backups)."""

from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from escala.cli import verbs
from escala.cli.naming import STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, err_console, table
from escala.cli.validate import KUBECONFIG_OPTION, NAME_OPTION, ClusterTarget
from escala.errors import KubernetesUnreachable, UsageError

if TYPE_CHECKING:
    from escala.ops.etcd_restore import RestoreStep


@verbs.get.command("backups")
def get_backups_command(
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List the cluster's etcd backups, oldest first (kept: hourly for a day, daily for a
    week)."""
    from escala.state.backups import list_backups

    target = ClusterTarget.resolve(name, state, None)
    backups = list_backups(target.store, target.name)
    rows = [[b.id, f"{b.created:%Y-%m-%d %H:%M:%S}", b.size, b.sha256[:12]] for b in backups]
    emit(
        [b.to_dict() for b in backups],
        output,
        lambda: table(["ID", "CREATED (UTC)", "BYTES", "SHA256"], rows),
    )


def _api_answers(target: ClusterTarget) -> bool:
    try:
        kube = target.kube()
    except UsageError as e:  # no kubeconfig context: cannot tell, so do not assume down
        raise UsageError(
            f"cannot tell whether {target.name}'s API answers ({e}); pass --force to restore "
            "without checking"
        ) from e
    try:
        kube.request("GET", "/version")
        return True
    except KubernetesUnreachable:
        return False
    finally:
        kube.close()


def _report(steps: "list[RestoreStep]", status: dict[int, str]) -> None:
    console.print(
        table(
            ["PHASE", "MEMBER", "INSTANCE", "COMMAND", "STATUS"],
            [[s.phase, s.master.name, s.master.instance_id, escape(" ".join(s.argv[1:3])),
              status.get(i, "")] for i, s in enumerate(steps)],
        )
    )  # fmt: skip


@verbs.restore.command("etcd")
def restore_etcd_command(
    backup: str = typer.Option(..., "--backup", help="An ID from `escala get backups`."),
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    force: bool = typer.Option(False, "--force", help="Restore even though the API answers."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Restore (else: print the steps)."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Restore etcd on every master from one backup: all members stop, all restore the
    same snapshot, all start (through SSM Run Command). Refused while the API answers,
    unless --force."""
    from escala.ops.etcd_restore import plan_restore, run_restore

    target = ClusterTarget.resolve(name, state, kubeconfig)
    answers = False if force else _api_answers(target)
    found, steps = plan_restore(
        target.aws(), target.store, target.name, backup, api_answers=answers, force=force
    )
    status: dict[int, str] = {}
    if yes:
        index = {id(s): i for i, s in enumerate(steps)}

        def progress(step: "RestoreStep", result: str) -> None:
            status[index[id(step)]] = result
            err_console.print(f"{step.phase} {step.master.name}: {result}", highlight=False)

        run_restore(target.aws(), steps, progress)
    if output is not OutputFormat.table:
        emit({"backup": found.to_dict(), "applied": yes,
              "steps": [s.to_dict() for s in steps]}, output, lambda: None)  # fmt: skip
    if output is OutputFormat.table:
        _report(steps, status)
        if yes:
            console.print(f"\netcd of {target.name} restored from {found.id}")
        else:
            console.print(f"\nMust specify --yes to restore {target.name}'s etcd from {found.id}")
