"""`escala validate cluster`: print kops's tables and exit 1 while the cluster is invalid.

Also home of the options the day-2 commands share (`--name`, `--state`, `--kubeconfig`,
durations like `10m`), which rolling-update and upgrade import.
"""

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from escala.cli import verbs
from escala.cli.naming import CLUSTER, STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, err_console, table
from escala.errors import UsageError

# The cloud, Kubernetes and use-case modules are imported where they are used: every
# day-2 command imports this module, and `escala <verb> --help` should not pay for them.
if TYPE_CHECKING:
    from escala.cloud.aws.session import ClientFactory
    from escala.kube.client import KubeClient
    from escala.ops.validate import ValidationResult
    from escala.state import StateStore

# Without a name, the day-2 commands act on the cluster of the current kubectl context.
_CONTEXT_DEFAULT = "default: the current kubectl context"
NAME_OPTION = CLUSTER.option(_CONTEXT_DEFAULT)
CLUSTER_ARGUMENT = CLUSTER.argument(_CONTEXT_DEFAULT)
KUBECONFIG_OPTION = typer.Option(
    None, "--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)."
)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)", re.ASCII)  # 0-9, not "٣"
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str, flag: str) -> float:
    """Seconds in a Go-style duration (`10m`, `1h30m`, `90s`, `0.5s`)."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UsageError(f"{flag} {text!r}: not a duration; write e.g. 30s, 10m or 1h30m")
    return sum(float(n) * _UNIT[u] for n, u in parts)


@dataclass
class ClusterTarget:
    """Which cluster a day-2 command acts on, and where its spec lives."""

    name: str
    store: "StateStore"
    kubeconfig: str | None
    region: str | None = None

    @classmethod
    def resolve(
        cls,
        name: str | None,
        state: str | None,
        kubeconfig: str | None,
        *,
        positional: bool = False,
    ) -> "ClusterTarget":
        """`positional`: the verb takes the name as NAME too, so the message when no
        name and no kubectl context gives one says so."""
        from escala.kube.client import current_context
        from escala.state import open_store

        if not name:
            name = current_context(kubeconfig)
            if not name:
                raise UsageError(
                    f"{CLUSTER.missing(positional)}, or select its context with `kubectl "
                    "config use-context` (see `escala get clusters`)"
                )
            err_console.print(f"Using cluster from kubectl context: {name}")
        store = open_store(state)
        cluster = store.get_cluster(name)  # NotFound names the store and the fix
        return cls(name, store, kubeconfig, cluster.spec.region)

    def kube(self) -> "KubeClient":
        from escala.kube.client import KubeClient

        return KubeClient.for_cluster(self.name, self.kubeconfig)

    def aws(self) -> "ClientFactory":
        """AWS clients in the cluster's own region (else $AWS_DEFAULT_REGION)."""
        from escala.cloud.aws.session import ClientFactory

        return ClientFactory(region=self.region)


def render(result: "ValidationResult") -> None:
    """kops's three tables and its last line."""
    console.print("INSTANCE GROUPS")
    console.print(
        table(
            ["NAME", "ROLE", "MACHINETYPE", "MIN", "MAX", "SUBNETS"],
            [
                [g.name, g.role, g.machine_type, g.min, g.max, g.subnets]
                for g in result.instance_groups
            ],
        )
    )
    console.print("\nNODE STATUS")
    console.print(
        table(["NAME", "ROLE", "READY"], [[n.name, n.role, n.ready] for n in result.nodes])
    )
    if result.certificates:
        console.print("\nCERTIFICATES")
        console.print(
            table(
                ["NAME", "EXPIRES", "REMAINING", "STATUS"],
                [[c.name, c.expires, c.remaining, c.status] for c in result.certificates],
            )
        )
    if result.failures:
        console.print("\nVALIDATION ERRORS")
        console.print(
            table(
                ["KIND", "NAME", "MESSAGE"],
                [[f.kind, f.name, escape(f.message)] for f in result.failures],
            )
        )
        console.print(f"\nValidation Failed: cluster {result.cluster} is not ready")
    else:
        console.print(f"\nYour cluster {result.cluster} is ready")


@verbs.validate.command("cluster")
def validate_cluster_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    wait: str | None = typer.Option(
        None, "--wait", help="Keep validating until the cluster is ready or this long passes (10m)."
    ),
    interval: str = typer.Option("10s", "--interval", help="Pause between attempts with --wait."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Check the cluster's instance groups, nodes and control plane, as kops does."""
    from escala.kube.client import kubeconfig_path
    from escala.ops.certificates import certificate_expiries
    from escala.ops.validate import validate_cluster, wait_for_valid

    timeout = parse_duration(wait, "--wait") if wait else 0.0
    pause = parse_duration(interval, "--interval")
    target = ClusterTarget.resolve(cluster or name, state, kubeconfig, positional=True)
    err_console.print(f"Validating cluster {target.name}")
    groups = target.store.list_instance_groups(target.name)
    aws, kube = target.aws(), target.kube()
    certificates = certificate_expiries(
        target.store, target.name, kubeconfig_path(target.kubeconfig)
    )
    result = wait_for_valid(
        lambda: validate_cluster(target.name, groups, aws, kube, certificates),
        timeout,
        pause,
        log=lambda message: err_console.print(escape(message), highlight=False),
    )
    emit(result.to_dict(), output, lambda: render(result))
    if not result.ready:
        raise typer.Exit(1)
