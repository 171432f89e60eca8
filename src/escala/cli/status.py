"""`escala describe chatservice|cluster` and `escala get instances`: what scales, live.

`describe` is kubectl's verb for "the object as it is now, with its recent events": here
the Auto Scaling Group or ECS service, the load balancer's targets, the policies' alarms
and the last scaling activities. `--watch` redraws it every `--interval` (Rich Live)
until Ctrl-C, to follow a scaling run. `get instances` is `kops get instances`.
"""

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from escala.cli import verbs
from escala.cli.naming import CHAT_SERVICE, CHAT_SERVICE_ARGUMENT, CHAT_SERVICE_OPTION, STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, err_console, table
from escala.cli.validate import (
    CLUSTER_ARGUMENT,
    KUBECONFIG_OPTION,
    NAME_OPTION,
    ClusterTarget,
    parse_duration,
)
from escala.errors import UsageError
from escala.state import open_store

if TYPE_CHECKING:
    from escala.api import InstanceGroup
    from escala.cloud.aws.scaling_activity import Activity
    from escala.ops.cluster_status import ClusterStatus
    from escala.ops.status import Capacity, ChatServiceStatus, Policy, ScalingStatus

WATCH_OPTION = typer.Option(False, "--watch", "-w", help="Redraw until Ctrl-C.")
INTERVAL_OPTION = typer.Option("5s", "--interval", help="Pause between redraws with --watch.")


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _capacity_row(capacity: "Capacity") -> list[Any]:
    return [capacity.name, capacity.min, capacity.desired, capacity.running, capacity.pending,
            capacity.max]  # fmt: skip


def _policies(policies: "list[Policy]") -> list[RenderableType]:
    if not policies:
        return [Text("\nNo scaling policies.")]
    rows = []
    for p in policies:
        target = f"{p.target:g}" if p.target is not None else ""
        if not p.alarms:
            rows.append([p.name, p.metric, target, "(no alarm)", "", ""])
        for a in p.alarms:
            rows.append([p.name, p.metric, target, a.name, a.state, escape(a.reason)])
    return [Text(""), table(["POLICY", "METRIC", "TARGET", "ALARM", "STATE", "REASON"], rows)]


def _activities(activities: "list[tuple[str, Activity]]", with_group: bool) -> list[RenderableType]:
    """(group, activity) pairs, newest first, as one table."""
    if not activities:
        return [Text("\nNo scaling activities yet.")]
    rows = [
        [*([group] if with_group else []), _when(a.start), a.status, escape(a.description),
         escape(a.cause)]
        for group, a in activities
    ]  # fmt: skip
    columns = [*(["GROUP"] if with_group else []), "STARTED", "STATUS", "ACTIVITY", "CAUSE"]
    return [Text("\nLast scaling activities, newest first:"), table(columns, rows)]


def scaling_renderables(status: "ScalingStatus") -> list[RenderableType]:
    """One Auto Scaling Group's or ECS service's capacity, policies and activities."""
    group = status.capacity.kind == "AutoScalingGroup"
    columns = ["AUTO SCALING GROUP" if group else "ECS SERVICE", "MIN", "DESIRED",
               "IN-SERVICE" if group else "RUNNING", "PENDING", "MAX"]  # fmt: skip
    return [
        table(columns, [_capacity_row(status.capacity)]),
        *_policies(status.policies),
        *_activities([("", a) for a in status.activities], with_group=False),
    ]


def chat_service_view(status: "ChatServiceStatus") -> RenderableType:
    parts: list[RenderableType] = [Text(f"Chat service {status.name} ({status.platform})")]
    if status.cpu is not None:
        parts.append(Text(f"CPU target: {status.cpu.says}"))
    if status.scaling is None:
        parts.append(
            Text(
                "Not built in AWS: no Auto Scaling Group or ECS service found; build it with "
                f"`escala update chatservice {status.name} --yes`"
            )
        )
        return Group(*parts)
    parts += scaling_renderables(status.scaling)
    if status.targets:
        parts.append(Text("\nBehind the load balancer:"))
        parts.append(
            table(
                ["TARGET", "PORT", "ZONE", "HEALTH", "REASON"],
                [[t.id, t.port, t.zone, t.state, escape(t.reason)] for t in status.targets],
            )
        )
    else:
        parts.append(Text("\nNo targets registered behind the load balancer."))
    return Group(*parts)


def cluster_view(status: "ClusterStatus") -> RenderableType:
    """All instance groups in one table, their policies (if any) and their activities
    together, newest first; then the Kubernetes half."""
    from escala.kube.scaling_status import autoscaler_summary
    from escala.ops.status import ACTIVITIES

    built = {g: s for g, s in status.groups.items() if s is not None}
    rows = [[g, *_capacity_row(s.capacity)] for g, s in built.items()]
    rows += [[g, "(none: run `escala update cluster --yes`)"] for g in status.groups
             if g not in built]  # fmt: skip
    columns = ["INSTANCE GROUP", "AUTO SCALING GROUP", "MIN", "DESIRED", "IN-SERVICE",
               "PENDING", "MAX"]  # fmt: skip
    parts: list[RenderableType] = [Text(f"Cluster {status.name}"), table(columns, rows)]
    policies = [p for s in built.values() for p in s.policies]
    if policies:
        parts += _policies(policies)
    activities = [(g, a) for g, s in built.items() for a in s.activities]
    activities.sort(key=lambda ga: ga[1].start.timestamp() if ga[1].start else 0, reverse=True)
    parts += _activities(activities[:ACTIVITIES], with_group=True)
    kube = status.kube
    parts.append(Text("\nKubernetes"))
    if kube.hpa:
        hpa = kube.hpa
        parts.append(
            table(
                ["HPA", "MIN", "MAX", "CURRENT", "DESIRED", "METRICS (current / target)"],
                [[hpa.name, hpa.min, hpa.max, hpa.current, hpa.desired, "; ".join(hpa.metrics)]],
            )
        )
        for condition in hpa.conditions:
            parts.append(Text(f"  {condition}"))
    if kube.pods_per_zone:
        parts.append(Text("Chat pods per zone:"))
        parts.append(
            table(
                ["ZONE", "READY", "NOT READY"],
                [[z, c["ready"], c["notReady"]] for z, c in kube.pods_per_zone.items()],
            )
        )
    if kube.autoscaler is not None:
        parts.append(Text("cluster-autoscaler:"))
        parts += [Text(f"  {line}") for line in autoscaler_summary(kube.autoscaler)]
    for missing in kube.missing:
        parts.append(Text(f"missing: {missing}", style="yellow"))
    return Group(*parts)


def show(
    read: Callable[[], Any],
    view: Callable[[Any], RenderableType],
    output: OutputFormat,
    watch: bool,
    interval: str,
) -> None:
    """Print once, or redraw every `interval` until Ctrl-C (which exits 130)."""
    pause = parse_duration(interval, "--interval")
    if pause <= 0:
        raise UsageError(f"--interval {interval!r}: give a positive duration, e.g. 5s")
    if not watch:
        status = read()
        emit(status.to_dict(), output, lambda: view(status))
        return
    if output is not OutputFormat.table:  # a document per refresh, as `kubectl get -w -o`
        while True:
            emit(read().to_dict(), output, lambda: None)
            time.sleep(pause)
    with Live(view(read()), console=console, auto_refresh=False) as live:
        while True:
            time.sleep(pause)
            live.update(view(read()), refresh=True)


@verbs.describe.command("chatservice")
def describe_chat_service_command(
    service_name: str | None = CHAT_SERVICE_ARGUMENT,
    name: str | None = CHAT_SERVICE_OPTION,
    watch: bool = WATCH_OPTION,
    interval: str = INTERVAL_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Live capacity, targets, alarms and scaling activities of a chat service."""
    from escala.ops.chat_service_lifecycle import clients_for
    from escala.ops.status import chat_service_status, stored_chat_service

    name = CHAT_SERVICE.name(service_name, name)
    service = stored_chat_service(open_store(state), name)
    clients = clients_for(service)
    show(lambda: chat_service_status(service, clients), chat_service_view, output, watch,
         interval)  # fmt: skip


@verbs.describe.command("cluster")
def describe_cluster_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    watch: bool = WATCH_OPTION,
    interval: str = INTERVAL_OPTION,
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Live scaling of a cluster: instance groups, the chat's HPA, pods, cluster-autoscaler."""
    from escala.ops.cluster_status import cluster_status

    target, groups = _cluster(cluster or name, state, kubeconfig, positional=True)
    aws = target.aws()
    show(lambda: cluster_status(target.name, groups, aws, target.kube), cluster_view, output,
         watch, interval)  # fmt: skip


def _cluster(
    name: str | None, state: str | None, kubeconfig: str | None, *, positional: bool = False
) -> "tuple[ClusterTarget, list[InstanceGroup]]":
    target = ClusterTarget.resolve(name, state, kubeconfig, positional=positional)
    return target, target.store.list_instance_groups(target.name)


@verbs.get.command("instances")
def get_instances_command(
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Every instance of the cluster, as `kops get instances` lists them."""
    from escala.ops.cluster_status import cluster_instances

    target, groups = _cluster(name, state, kubeconfig)
    rows, missing = cluster_instances(target.name, groups, target.aws(), target.kube)
    if missing and output is OutputFormat.table:
        err_console.print(f"NODE-NAME not shown: {escape(missing)}", highlight=False)
    emit(
        [r.to_dict() for r in rows],
        output,
        lambda: table(
            [
                "ID",
                "NODE-NAME",
                "STATUS",
                "ROLES",
                "STATE",
                "INTERNAL-IP",
                "INSTANCE-GROUP",
                "MACHINE-TYPE",
            ],
            [
                [
                    r.id,
                    r.node_name,
                    r.status,
                    r.roles,
                    r.state,
                    r.internal_ip,
                    r.instance_group,
                    r.machine_type,
                ]
                for r in rows
            ],
        ),
    )
