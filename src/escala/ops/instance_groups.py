"""`create instancegroup` and `delete instancegroup`, as kops's.

create writes a new group's spec, completed and validated within its cluster (a mixed
instances policy's types are also looked up in the region), like `edit`: nothing in the
cloud changes until `update cluster --yes`.

delete first refuses what would break the cluster: the last control-plane group, or one
whose loss leaves an even or lost etcd quorum. Then, with `yes`, it drains the group's nodes
(unless cloud-only), deletes its Auto Scaling Group (which terminates the instances) and
launch template, and only then its spec, so an interrupted delete is finished by running
it again.
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from escala.api import InstanceGroup, Role
from escala.api.defaults import complete_instance_group
from escala.api.validation import QUORUM, is_machine_type
from escala.cloud.aws.autoscaling_group import AutoscalingGroup, group_exists
from escala.cloud.aws.instance_types import offered_instance_types
from escala.cloud.aws.launch_template import LaunchTemplate, launch_template_id
from escala.cloud.aws.session import ClientFactory
from escala.errors import AlreadyExists, CloudError, NotFound, SpecInvalid, UsageError
from escala.kube.client import KubeClient
from escala.kube.drain import evacuate_instance
from escala.ops.cloud_groups import asg_name, read_groups
from escala.ops.specs import save_instance_group
from escala.state import StateStore

Log = Callable[[str], None]


def not_offered(aws: ClientFactory, group: InstanceGroup) -> list[str]:
    """Problems for each mixed-instances type the region does not offer."""
    policy = group.spec.mixed_instances_policy
    if policy is None or not policy.instances:
        return []
    offered = offered_instance_types(aws, policy.instances)
    return [
        f"instancegroup/{group.name}.spec.mixedInstancesPolicy.instances[{i}]: {t} is not "
        f"offered in {aws.region}; pick another type (aws ec2 describe-instance-type-offerings)"
        for i, t in enumerate(policy.instances)
        if t not in offered and is_machine_type(t)  # validation names the others
    ]


def create_instance_group(
    store: StateStore, cluster_name: str, group: InstanceGroup, aws: ClientFactory, yes: bool
) -> InstanceGroup:
    """The completed group; written only with `yes`. Every problem (the spec's, and types
    the region does not offer) is raised at once, before anything is written."""
    if any(g.name == group.name for g in store.list_instance_groups(cluster_name)):
        raise AlreadyExists(
            f"instancegroup/{group.name} already exists in cluster {cluster_name}; change it "
            f"with `escala edit instancegroup {group.name}` or pick another name"
        )
    cluster = store.get_cluster(cluster_name, completed=True)
    problems: list[str] = []
    try:
        done = save_instance_group(store, cluster_name, group, create=True, dry_run=True)
    except SpecInvalid as e:
        problems, done = list(e.problems), complete_instance_group(group, cluster)
    problems += not_offered(aws, done)
    if problems:
        raise SpecInvalid(problems, f"cluster {cluster_name}")
    return save_instance_group(store, cluster_name, group, create=True) if yes else done


def check_quorum_after_delete(
    cluster_name: str, group: InstanceGroup, groups: list[InstanceGroup], single_ok: bool
) -> None:
    """Refuse deleting the last control-plane group, or one leaving an even or lost quorum."""
    if group.spec.role is not Role.master:
        return
    left = sum(g.spec.max_size or 0 for g in groups if g.spec.role is Role.master) - (
        group.spec.max_size or 0
    )
    subject = f"instancegroup/{group.name}"
    if left == 0:
        raise UsageError(
            f"{subject}: the last control-plane group of cluster {cluster_name} cannot be "
            "deleted; delete the cluster instead (`escala delete cluster`)"
        )
    if left % 2 == 0 or (left < 3 and not (left == 1 and single_ok)):
        raise UsageError(
            f"{subject}: deleting it would leave {left} masters: {QUORUM}. Keep it: escala keeps "
            "an odd number of masters, so a control-plane group is not deleted on its own"
        )


@dataclass
class DeletePlan:
    """What `delete instancegroup` would do."""

    cluster: str
    group: str
    role: str
    auto_scaling_group: str | None
    launch_template: str | None
    instances: list[str] = field(default_factory=list)
    drain: bool = True
    applied: bool = False

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def plan_delete(
    store: StateStore, aws: ClientFactory, cluster_name: str, name: str, cloud_only: bool
) -> DeletePlan:
    """Refusals first (NotFound, quorum), then what exists in AWS for the group."""
    cluster = store.get_cluster(cluster_name, completed=True)
    groups = store.list_instance_groups(cluster_name)
    group = next((g for g in groups if g.name == name), None)
    if group is None:
        known = ", ".join(sorted(g.name for g in groups))
        raise NotFound(f"instancegroup/{name} not found in cluster {cluster_name} ({known})")
    check_quorum_after_delete(cluster_name, group, groups, cluster.spec.allow_single_master)
    cloud = read_groups(aws, cluster_name, [group])[0]
    full_name = asg_name(name, cluster_name)
    template = launch_template_id(aws, full_name)
    return DeletePlan(
        cluster=cluster_name,
        group=name,
        role=group.spec.role.value,
        auto_scaling_group=cloud.asg_name if cloud.asg_found else None,
        launch_template=full_name if template else None,
        instances=[i.id for i in cloud.instances],
        drain=not cloud_only,
    )


def _wait_gone(
    aws: ClientFactory, name: str, timeout: float, sleep: Callable[[float], None]
) -> None:
    """ForceDelete takes a while on AWS (the instances terminate first)."""
    deadline = time.monotonic() + timeout
    while group_exists(aws, name):
        if time.monotonic() >= deadline:
            raise CloudError(
                f"Auto Scaling Group {name} still exists after {timeout:.0f}s; run "
                "`escala delete instancegroup` again to finish"
            )
        sleep(5.0)


def delete_instance_group(
    plan: DeletePlan,
    store: StateStore,
    aws: ClientFactory,
    kube: KubeClient | None,
    drain_timeout: float = 300.0,
    log: Log = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeletePlan:
    """Drain (unless cloud-only), delete the ASG and launch template, then the spec."""
    if plan.drain and kube is not None:
        for instance_id in plan.instances:
            evacuate_instance(kube, instance_id, drain_timeout, log, sleep)
    if plan.auto_scaling_group:
        AutoscalingGroup.delete_id(aws, plan.auto_scaling_group)
        log(f"deleted Auto Scaling Group {plan.auto_scaling_group} and its instances")
        _wait_gone(aws, plan.auto_scaling_group, drain_timeout, sleep)
    if plan.launch_template:
        template_id = launch_template_id(aws, plan.launch_template)
        if template_id:
            LaunchTemplate.delete_id(aws, template_id)
            log(f"deleted launch template {plan.launch_template}")
    store.delete_instance_group(plan.cluster, plan.group)
    plan.applied = True
    return plan
