"""What `update cluster` and `delete cluster` share: their options and printing the
plan (a Rich tree for people, JSON/YAML for scripts)."""

import dataclasses

import typer
from rich.tree import Tree

from escala.cli.output import OutputFormat, console, emit
from escala.reconcile.plan import NO_CHANGES, Action, Plan, field_text

NAME_OPTION = typer.Option(
    ..., "--name", envvar="ESCALA_CLUSTER_NAME", help="The cluster's name (ESCALA_CLUSTER_NAME)."
)
STATE_OPTION = typer.Option(None, "--state", help="State store URL (default: $ESCALA_STATE_STORE).")


@dataclasses.dataclass
class ClusterChangeOptions:
    """The flags of a command that changes a cluster's cloud resources."""

    name: str
    yes: bool
    state: str | None
    output: OutputFormat


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
    if plan.applied:
        console.print(f"Applied: {counts}.")
    else:
        console.print(f"Plan: {counts}.\n{apply_hint}")
