"""What `update cluster` and `delete cluster` share: their options and printing the
plan (a Rich tree for people, JSON/YAML for scripts)."""

import contextlib
import dataclasses
from collections.abc import Iterator

from rich.markup import escape
from rich.tree import Tree

from escala.cli.output import OutputFormat, console, emit, err_console
from escala.reconcile.engine import OnStep
from escala.reconcile.plan import NO_CHANGES, Action, Plan, field_text


@dataclasses.dataclass
class ClusterChangeOptions:
    """The flags of a command that changes a cluster's cloud resources."""

    name: str
    yes: bool
    state: str | None
    output: OutputFormat


@contextlib.contextmanager
def step_progress(doing: str) -> Iterator[OnStep]:
    """A progress bar on stderr while `doing` (seconds in the sandbox, minutes on AWS):
    resources done out of all, and the one being worked on. Gone once finished."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[dim]{task.fields[current]}"),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(doing, total=None, current="")

        def on_step(done: int, total: int, key: str) -> None:
            bar.update(task, completed=done, total=total, current=key)

        yield on_step


STYLES = {Action.create: "green", Action.modify: "yellow", Action.delete: "red"}


def plan_tree(plan: Plan) -> Tree:
    tree = Tree(f"[bold]{plan.cluster_name}[/]")
    for action in Action:
        changes = plan.by_action(action)
        if not changes:
            continue
        branch = tree.add(f"[{STYLES[action]}]{action} ({len(changes)})[/]")
        for change in changes:
            node = branch.add(change.key)
            for f in change.fields:
                node.add(f"{f.field}: {field_text(action, f)}", highlight=False)
    return tree


def print_plan(plan: Plan, fmt: OutputFormat, apply_hint: str) -> None:
    """Print the plan; in a dry run, say how to apply it."""
    if fmt is not OutputFormat.table:
        emit(plan.to_dict(), fmt, lambda: None)
        return
    if plan.empty:
        console.print(NO_CHANGES)
        return
    console.print(plan_tree(plan))
    counts = ", ".join(f"{len(plan.by_action(a))} to {a}" for a in Action)
    notes = "".join(f"\n{escape(n)}" for n in plan.notes)
    if plan.applied:
        console.print(f"Applied: {counts}.{notes}")
    else:
        console.print(f"Plan: {counts}.{notes}\n{apply_hint}")
