"""Replace out-of-date instances without downtime, as `kops rolling-update cluster`.

Order: control-plane groups first, one instance at a time, then node groups. For each
instance: cordon and drain its node through the Eviction API (PodDisruptionBudgets
honoured), delete the node object, terminate the instance through its ASG without
lowering the desired count (the ASG launches the replacement from the current launch
template), wait for the replacement to be InService, and validate the cluster before
touching the next one.

With `max_surge` > 0 a node group gets its replacements first: up to that many stale
instances are detached from the ASG (which launches replacements), and drained and
terminated once the new ones have joined. Control-plane groups never surge: each master
owns its zone's etcd volumes.

Nothing is remembered between runs. What is stale comes from AWS (an instance's
launch-template version differs from its ASG's), and detached instances are tagged, so
after an interruption a new run picks up exactly where the last one stopped.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from escala.api import InstanceGroup, Role
from escala.cloud.aws.autoscaling_group import terminate_in_group
from escala.cloud.aws.session import ClientFactory
from escala.errors import EscalaError, UsageError
from escala.kube.client import KubeClient, instance_id_of
from escala.kube.drain import evacuate_instance
from escala.ops.cloud_groups import (
    CloudGroup,
    CloudInstance,
    detach_from_group,
    detached_instances,
    only_groups,
    read_groups,
    terminate_detached,
)
from escala.ops.validate import validate_cluster, wait_for_valid

Log = Callable[[str], None]


class RollingUpdateFailed(EscalaError):
    """The cluster did not come back healthy; re-running resumes from here."""


@dataclass
class RollingUpdateOptions:
    cluster_name: str
    instance_groups: list[str] = field(default_factory=list)
    cloud_only: bool = False
    force: bool = False
    max_surge: int = 0
    validation_timeout: float = 900.0
    drain_timeout: float = 300.0
    poll_interval: float = 10.0


@dataclass
class GroupStatus:
    """One row of the plan: kops's NAME STATUS NEEDUPDATE READY MIN TARGET MAX NODES."""

    name: str
    status: str
    need_update: int
    ready: int
    min: int
    target: int
    max: int
    nodes: int | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class RollingUpdateReport:
    replaced: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def _select(options: RollingUpdateOptions, groups: Iterable[InstanceGroup]) -> list[InstanceGroup]:
    """The groups to consider, control plane first; unknown --instance-group names fail."""
    chosen = only_groups(groups, options.instance_groups, options.cluster_name)
    if options.max_surge < 0:
        raise UsageError("--max-surge must be 0 or more")
    return sorted(chosen, key=lambda g: (g.spec.role is not Role.master, g.name))


def _to_replace(cloud: CloudGroup, force: bool) -> list[CloudInstance]:
    return list(cloud.instances) if force else cloud.stale


def plan_rolling_update(
    options: RollingUpdateOptions,
    groups: Iterable[InstanceGroup],
    aws: ClientFactory,
    kube: KubeClient | None,
) -> list[GroupStatus]:
    """What a rolling update would do, one row per instance group."""
    chosen = _select(options, groups)
    clouds = read_groups(aws, options.cluster_name, chosen)
    node_instances = (
        {instance_id_of(n) for n in kube.list_nodes()} if kube and not options.cloud_only else None
    )
    rows = []
    for cloud in clouds:
        need = len(_to_replace(cloud, options.force))
        nodes = (
            None
            if node_instances is None
            else sum(1 for i in cloud.instances if i.id in node_instances)
        )
        rows.append(
            GroupStatus(
                cloud.name,
                "NeedsUpdate" if need else "Ready",
                need,
                len(cloud.instances) - need,
                cloud.min_size,
                cloud.desired,
                cloud.max_size,
                nodes,
            )
        )
    return rows


class _Updater:
    """One rolling update run; the steps share the options, clients and log."""

    def __init__(
        self,
        options: RollingUpdateOptions,
        groups: list[InstanceGroup],
        aws: ClientFactory,
        kube: KubeClient | None,
        log: Log,
        sleep: Callable[[float], None],
    ) -> None:
        self.options = options
        self.groups = groups
        self.aws = aws
        self.log = log
        self.sleep = sleep
        self.kube = None if options.cloud_only else kube
        self.report = RollingUpdateReport()

    def _group(self, group: InstanceGroup) -> CloudGroup:
        return read_groups(self.aws, self.options.cluster_name, [group])[0]

    def validate(self, after: str) -> None:
        """Wait until the cluster validates (or, cloud-only, nothing: ASGs were awaited)."""
        if self.kube is None:
            return
        kube = self.kube
        result = wait_for_valid(
            lambda: validate_cluster(self.options.cluster_name, self.groups, self.aws, kube),
            self.options.validation_timeout,
            self.options.poll_interval,
            self.log,
            self.sleep,
        )
        if result.ready:
            self.log(f"cluster {self.options.cluster_name} validated {after}")
            return
        problems = "; ".join(f.message for f in result.failures)
        raise RollingUpdateFailed(
            f"cluster {self.options.cluster_name} did not validate within "
            f"{self.options.validation_timeout:.0f}s {after}: {problems}. Fix it and run "
            "`escala rolling-update cluster --yes` again: it resumes where it stopped "
            "(--cloudonly skips Kubernetes when its API is down)"
        )

    def wait_in_service(self, group: InstanceGroup, gone: set[str]) -> None:
        """Until the ASG has its desired count InService, none of them in `gone`."""
        deadline = time.monotonic() + self.options.validation_timeout
        while True:
            cloud = self._group(group)
            ids = {i.id for i in cloud.instances}
            if not ids & gone and len(cloud.in_service) >= cloud.desired:
                return
            if time.monotonic() >= deadline:
                raise RollingUpdateFailed(
                    f"Auto Scaling Group {cloud.asg_name} has {len(cloud.in_service)} of "
                    f"{cloud.desired} instances InService after "
                    f"{self.options.validation_timeout:.0f}s; check its activity history, then "
                    "run the rolling update again"
                )
            self.sleep(self.options.poll_interval)

    def evacuate(self, instance_id: str) -> None:
        """Drain the instance's node and delete the node object (skipped cloud-only)."""
        if self.kube is not None:
            evacuate_instance(
                self.kube, instance_id, self.options.drain_timeout, self.log, self.sleep
            )

    def replace_one(self, group: InstanceGroup, instance: CloudInstance) -> None:
        self.log(f"replacing instance {instance.id} of group {group.name}")
        self.evacuate(instance.id)
        terminate_in_group(self.aws, instance.id)
        self.log(f"terminated instance {instance.id}; waiting for its replacement")
        self.wait_in_service(group, {instance.id})
        self.report.replaced.append(instance.id)
        self.validate(f"after replacing {instance.id}")

    def surge(self, group: InstanceGroup, batch: list[CloudInstance]) -> None:
        """Detach `batch` (the ASG launches replacements), then drain and terminate it."""
        ids = [i.id for i in batch]
        detach_from_group(self.aws, self.options.cluster_name, group.name, ids)
        self.log(f"detached {', '.join(ids)} from group {group.name}; waiting for replacements")
        self.wait_in_service(group, set(ids))
        self.validate(f"after surging group {group.name}")
        self.retire_detached(group, ids)

    def retire_detached(self, group: InstanceGroup, ids: list[str]) -> None:
        for instance_id in ids:
            self.evacuate(instance_id)
            terminate_detached(self.aws, instance_id)
            self.report.replaced.append(instance_id)
            self.log(f"terminated detached instance {instance_id}")
            self.validate(f"after replacing {instance_id}")

    def update_group(self, group: InstanceGroup) -> None:
        leftover = detached_instances(self.aws, self.options.cluster_name, group.name)
        if leftover:
            self.log(f"resuming: retiring detached {', '.join(leftover)} of {group.name}")
            self.retire_detached(group, leftover)
        todo = [i.id for i in _to_replace(self._group(group), self.options.force)]
        if not todo:
            return
        self.report.groups.append(group.name)
        surge = 0 if group.spec.role is Role.master else self.options.max_surge
        while todo:
            current = {i.id: i for i in self._group(group).instances}
            pending = [current[i] for i in todo if i in current]
            if not pending:
                return
            if surge > 0:
                batch = pending[:surge]
                self.surge(group, batch)
            else:
                batch = pending[:1]
                self.replace_one(group, batch[0])
            todo = [i for i in todo if i not in {b.id for b in batch}]

    def run(self) -> RollingUpdateReport:
        chosen = _select(self.options, self.groups)
        self.validate("before the rolling update")
        for group in chosen:
            self.update_group(group)
        return self.report


def rolling_update(
    options: RollingUpdateOptions,
    groups: Iterable[InstanceGroup],
    aws: ClientFactory,
    kube: KubeClient | None,
    log: Log = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> RollingUpdateReport:
    """Replace every instance that needs it (all of them with `force`)."""
    return _Updater(options, list(groups), aws, kube, log, sleep).run()
