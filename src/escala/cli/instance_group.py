"""`escala create instancegroup` and `escala delete instancegroup`, as kops spells them."""

import typer
from rich.markup import escape

from escala.api import (
    InstanceGroup,
    InstanceGroupSpec,
    MixedInstancesPolicy,
    ObjectMeta,
    Role,
    SpotAllocationStrategy,
    dump_document,
)
from escala.cli import verbs
from escala.cli.naming import STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, err_console, table
from escala.cli.validate import (
    KUBECONFIG_OPTION,
    NAME_OPTION,
    ClusterTarget,
    parse_duration,
)
from escala.errors import UsageError


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _labels(value: str | None) -> dict[str, str]:
    labels = {}
    for pair in _csv(value):
        key, sep, val = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--node-labels: {pair!r} is not key=value, e.g. team=chat")
        labels[key] = val
    return labels


def _mixed(
    instances: str | None,
    spot: bool,
    on_demand_base: int | None,
    on_demand_above_base: int | None,
    strategy: SpotAllocationStrategy | None,
) -> MixedInstancesPolicy | None:
    """kops's flags for a mixed instances policy; --spot alone means all Spot."""
    given = instances or spot or on_demand_base is not None or on_demand_above_base is not None
    if not (given or strategy):
        return None
    if spot and on_demand_above_base not in (None, 0):
        raise UsageError("--spot: all capacity beyond --on-demand-base is Spot; drop "
                         "--on-demand-above-base or set it to 0")  # fmt: skip
    return MixedInstancesPolicy(
        instances=_csv(instances),
        on_demand_base=on_demand_base,
        on_demand_above_base=0 if spot else on_demand_above_base,
        spot_allocation_strategy=strategy,
    )


@verbs.create.command("instancegroup")
@verbs.create.command("ig", hidden=True)
def create_instance_group_command(
    group: str = typer.Argument(..., help="Name of the new instance group, e.g. nodes-spot."),
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    role: Role = typer.Option(
        Role.node, "--role", help="Node, Master (ControlPlane), or Bastion (private topology)."
    ),
    subnets: str | None = typer.Option(
        None, "--subnet", "--zones", help="Subnets (zones) for it (default: all the cluster's)."
    ),
    machine_type: str | None = typer.Option(None, "--machine-type", help="e.g. m7i.large."),
    min_size: int | None = typer.Option(None, "--min-size", min=0),
    max_size: int | None = typer.Option(None, "--max-size", min=0),
    image: str | None = typer.Option(None, "--image", help="ami-... or <owner>/<name pattern>."),
    node_labels: str | None = typer.Option(None, "--node-labels", help="k=v,... on its nodes."),
    taints: str | None = typer.Option(None, "--taints", help="k=v:NoSchedule,... on its nodes."),
    mixed_instances: str | None = typer.Option(
        None, "--mixed-instances", help="Instance types of a mixed instances policy: a,b,..."
    ),
    spot: bool = typer.Option(False, "--spot", help="Spot beyond --on-demand-base (default 0)."),
    on_demand_base: int | None = typer.Option(None, "--on-demand-base", min=0),
    on_demand_above_base: int | None = typer.Option(
        None, "--on-demand-above-base", min=0, max=100, help="% On-Demand above the base."
    ),
    spot_allocation_strategy: SpotAllocationStrategy | None = typer.Option(
        None, "--spot-allocation-strategy"
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Write it (default: show it)."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Add an instance group to a cluster's spec; `update cluster --yes` builds it."""
    from escala.ops.instance_groups import create_instance_group

    target = ClusterTarget.resolve(name, state, None)
    spec = InstanceGroupSpec(
        role=role,
        machine_type=machine_type,
        min_size=min_size,
        max_size=max_size,
        subnets=_csv(subnets),
        image=image,
        node_labels=_labels(node_labels),
        taints=_csv(taints),
        mixed_instances_policy=_mixed(
            mixed_instances, spot, on_demand_base, on_demand_above_base, spot_allocation_strategy
        ),
    )
    new = InstanceGroup(metadata=ObjectMeta(name=group), spec=spec)
    done = create_instance_group(target.store, target.name, new, target.aws(), yes)
    emit(dump_document(done), OutputFormat.yaml if output is OutputFormat.table else output,
         lambda: None)  # fmt: skip
    if yes:
        err_console.print(
            f"\ninstancegroup/{group} created; build it with: "
            f"escala update cluster --name {target.name} --yes"
        )
    else:
        err_console.print("\nMust specify --yes to create the instance group")


@verbs.delete.command("instancegroup")
@verbs.delete.command("ig", hidden=True)
def delete_instance_group_command(
    group: str = typer.Argument(..., help="The instance group to delete."),
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    cloud_only: bool = typer.Option(
        False, "--cloudonly", help="Do not drain its nodes (the Kubernetes API is down)."
    ),
    drain_timeout: str = typer.Option("5m", "--drain-timeout", help="Per node."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete (default: show what would go)."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Drain an instance group's nodes, delete its ASG and launch template, then its spec."""
    from escala.ops.instance_groups import delete_instance_group, plan_delete

    target = ClusterTarget.resolve(name, state, kubeconfig)
    timeout = parse_duration(drain_timeout, "--drain-timeout")
    aws = target.aws()
    plan = plan_delete(target.store, aws, target.name, group, cloud_only)
    if yes:
        kube = None if cloud_only else target.kube()
        log = lambda message: err_console.print(escape(message), highlight=False)  # noqa: E731
        plan = delete_instance_group(plan, target.store, aws, kube, timeout, log)
    rows = [
        ["AutoscalingGroup", plan.auto_scaling_group or "(none)", len(plan.instances)],
        ["LaunchTemplate", plan.launch_template or "(none)", ""],
        ["InstanceGroup spec", f"{plan.cluster}/instancegroup/{plan.group}", ""],
    ]
    emit(plan.to_dict(), output, lambda: table(["KIND", "NAME", "INSTANCES"], rows))
    if not yes:
        how = "drained first" if plan.drain else "terminated without draining (--cloudonly)"
        err_console.print(
            f"\nIts {len(plan.instances)} instance(s) would be {how}. "
            "Must specify --yes to delete the instance group"
        )
    elif output is OutputFormat.table:
        console.print(f"Deleted instancegroup/{plan.group} of cluster {plan.cluster}")
