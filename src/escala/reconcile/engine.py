"""The find -> diff -> apply loop, written once for every task.

Tasks run in the order their references give (a subnet after its VPC): `graphlib`
sorts the graph and refuses cycles. The *target* decides whether anything happens:
`DryRun` only records, `Apply` calls the task's apply with retries and a deadline per
task. Because every task first finds what exists, an apply interrupted halfway is
simply finished by the next run.
"""

import graphlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from botocore.exceptions import ClientError

from escala.errors import EscalaError
from escala.reconcile.deletion import delete_owned
from escala.reconcile.plan import Action, Change, Plan
from escala.reconcile.retry import (
    DEFAULT_DEADLINE,
    already_exists,
    retryable,
    throttled,
    with_retries,
)
from escala.reconcile.task import Cloud, Discoverable, FieldChange, Fields, Task

OnStep = Callable[[int, int, str], None]
"""Called as each resource is done with (`done`, `total`, its key): progress for people."""


class Target(Protocol):
    """Where changes go: recorded (dry run) or made in AWS."""

    applies: bool

    def apply(self, task: Task, actual: Fields | None, changes: list[FieldChange]) -> None: ...


class DryRun:
    """Records nothing beyond the plan; fills predictable outputs for dependents."""

    applies = False

    def apply(self, task: Task, actual: Fields | None, changes: list[FieldChange]) -> None:
        task.expect(creating=actual is None)


class Apply:
    """Makes the change in AWS, retrying by error code until `deadline` seconds pass.

    A failed attempt may have done its work, or part of it: a create whose answer was
    lost (botocore then sends it again and meets "already exists"), a create that made
    the resource and failed on the next call. So every attempt after the first finds the
    resource again and applies only what is still missing, as the next run would.
    """

    applies = True

    def __init__(self, cloud: Cloud, deadline: float = DEFAULT_DEADLINE) -> None:
        self.cloud = cloud
        self.deadline = deadline

    def apply(self, task: Task, actual: Fields | None, changes: list[FieldChange]) -> None:
        doing = f"{'creating' if actual is None else 'updating'} {task.key}"
        attempts = 0
        found, missing = actual, changes

        def attempt() -> None:
            nonlocal attempts, found, missing
            attempts += 1
            if attempts > 1:
                found = task.find(self.cloud)
                missing = task.diff(found)
                if found is not None and not missing:
                    return
            task.apply(self.cloud, found, missing)

        def should_retry(e: ClientError) -> bool:
            # "already exists" is worth one more look (the next attempt finds first): the
            # create may be botocore's resend of one that worked; a name taken by
            # something else fails on the next attempt
            return retryable(e) or (already_exists(e) and attempts < 2)

        with_retries(attempt, doing, deadline=self.deadline, should_retry=should_retry)


def ordered(tasks: Iterable[Task]) -> list[Task]:
    """Tasks sorted so each comes after those it refers to; ties broken by key."""
    tasks = list(tasks)
    keys = {t.key for t in tasks}
    if len(keys) != len(tasks):
        raise EscalaError("two tasks share a key; the model built the same resource twice")
    graph = graphlib.TopologicalSorter({t: list(t.dependencies()) for t in tasks})
    graph.prepare()
    result: list[Task] = []
    while graph.is_active():
        ready = sorted(graph.get_ready(), key=lambda t: t.key)
        result.extend(ready)
        graph.done(*ready)
    missing = [t.key for t in result if t.key not in keys]
    if missing:
        raise EscalaError(f"tasks refer to tasks the model did not build: {missing}")
    return result


def run(
    cluster_name: str,
    tasks: Iterable[Task],
    cloud: Cloud,
    target: Target,
    prune: Sequence[type[Discoverable]] = (),
    on_step: OnStep | None = None,
) -> Plan:
    """Find, diff and (through `target`) apply every task; returns the plan.

    Resources of the `prune` kinds the cluster owns but no task wants (the ASG and
    launch template of a removed instance group), and the parts of resources no task
    wants (`Task.extras`: a revoked SSH CIDR), are deleted after everything else.
    """
    tasks = ordered(tasks)
    for task in tasks:
        with_retries(
            lambda t=task: t.prepare(cloud), f"preparing {task.key}", should_retry=throttled
        )
    plan = Plan(cluster_name)
    for done, task in enumerate(tasks):
        if on_step is not None:
            on_step(done, len(tasks), task.key)
        actual = with_retries(
            lambda t=task: t.find(cloud), f"reading {task.key}", should_retry=throttled
        )
        changes = task.diff(actual)
        if actual is not None and not changes:
            continue
        task.check_changes(changes if actual is not None else [])
        action = Action.create if actual is None else Action.modify
        plan.changes.append(Change(task.kind, task.name, action, tuple(changes)))
        target.apply(task, actual, changes)
    wanted = {t.key for t in tasks}
    extra = [o for kind in prune for o in kind.discover(cloud, cluster_name) if o.key not in wanted]
    extra += [o for task in tasks for o in task.extras(cloud, tasks)]
    plan.changes.extend(Change(o.kind, o.name, Action.delete) for o in extra)
    if extra and target.applies:
        delete_owned(cloud, extra, on_step=on_step)
    plan.applied = target.applies
    return plan
