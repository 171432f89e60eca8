"""`escala deploy chat` and `escala delete chat`: the chat with HPA + cluster-autoscaler.

`deploy chat -o yaml|json` prints the manifests and touches nothing; otherwise they are
applied through the cluster's kubeconfig context (`escala export kubeconfig`).
"""

from collections import Counter
from typing import TYPE_CHECKING

import typer

from escala.api.chat_deployment import (
    DRAIN_TIMEOUT,
    MAX_REPLICAS,
    MIN_REPLICAS,
    ChatDeployment,
    validate_chat_deployment,
)
from escala.api.chat_scaling import CPU_TARGET
from escala.cli import verbs
from escala.cli.cluster import _csv
from escala.cli.output import OutputFormat, apply_or_print_option, console, emit, table
from escala.cli.output import err_console as status_console
from escala.cli.validate import KUBECONFIG_OPTION, NAME_OPTION, STATE_OPTION, ClusterTarget

if TYPE_CHECKING:
    from escala.ops.deploy import Applied


def _on_cluster(target: ClusterTarget, **spec: object) -> ChatDeployment:
    """The chat on the cluster: its version and region from its completed spec, the
    rest from `spec` (the flags) or the"""
    from escala.kube.versions import latest

    cluster = target.store.get_cluster(target.name, completed=True).spec
    return ChatDeployment.for_cluster(
        target.name, str(cluster.kubernetes_version or latest()), str(cluster.region or ""), **spec
    )


def _report(results: "list[Applied]") -> None:
    console.print(
        table(
            ["KIND", "NAMESPACE", "NAME", "RESULT"],
            [[r.kind, r.namespace or "(cluster)", r.name, r.result] for r in results],
        )
    )


def _counts(results: "list[Applied]") -> str:
    seen = Counter(r.result for r in results)
    return ", ".join(f"{n} {result}" for result, n in seen.items())


@verbs.deploy.command("chat")
def deploy_chat_command(
    name: str | None = NAME_OPTION,
    image: str | None = typer.Option(
        None,
        "--image",
        help="The chat's container image (default: the one `escala image push --name` "
        "recorded for the cluster, by digest).",
    ),
    replicas: int | None = typer.Option(
        None, "--replicas", help="Replicas at first deploy (default --min); the HPA owns it after."
    ),
    min_replicas: int = typer.Option(MIN_REPLICAS, "--min", help="HPA minimum."),
    max_replicas: int = typer.Option(MAX_REPLICAS, "--max", help="HPA maximum."),
    cpu_target: int = typer.Option(
        CPU_TARGET, "--cpu-target", help="HPA target: percent of the CPU request."
    ),
    drain_timeout: int = typer.Option(
        DRAIN_TIMEOUT,
        "--drain-timeout",
        help="Seconds the chat drains on SIGTERM; the grace period covers it.",
    ),
    database_secret: str | None = typer.Option(
        None,
        "--database-secret",
        help="Secret in escala-chat whose `url` key is a postgresql:// URL: history shared "
        "by all replicas (default: each replica's own SQLite).",
    ),
    auth_secret: str | None = typer.Option(
        None,
        "--auth-secret",
        help="Secret in escala-chat whose `keys` key holds the chat's token keys: require a "
        "signed token at connect (`escala chat token`).",
    ),
    allow_origin: str | None = typer.Option(
        None,
        "--allow-origin",
        help="Origins (https://host[:port], comma-separated) whose pages may connect "
        "besides the chat's own address.",
    ),
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    output: OutputFormat = apply_or_print_option("the manifests and list what changed"),
) -> None:
    """Run the chat on the cluster: Redis, the chat behind an NLB, its PDB and HPA, with
    metrics-server and cluster-autoscaler (on the masters). Safe to run again: unchanged
    objects stay as they are."""
    from escala.kube.manifests import NAMESPACE
    from escala.ops.deploy import chat_address, deploy, desired
    from escala.ops.image import check_image_owner, pushed_image

    target = ClusterTarget.resolve(name, state, kubeconfig)
    if image is None:
        image = pushed_image(target.store, "Cluster", target.name, "--image")
    check_image_owner(image, "Cluster", target.name, "--image")
    chat = _on_cluster(
        target,
        image=image,
        replicas=replicas,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        cpu_target=cpu_target,
        drain_timeout=drain_timeout,
        database_secret=database_secret,
        auth_secret=auth_secret,
        allow_origin=_csv(allow_origin),
    )
    validate_chat_deployment(chat)
    objects = desired(chat)
    if output is not OutputFormat.table:
        emit(objects, output, lambda: None)
        return
    kube = target.kube()
    try:
        with status_console.status(f"Applying {len(objects)} objects to {target.name}..."):
            results = deploy(kube, objects)
        address = chat_address(kube, chat)
    finally:
        kube.close()
    _report(results)
    where = address or (
        f"Its load balancer is being created; `kubectl -n {NAMESPACE} get service chat` "
        "shows its name when it is ready"
    )
    console.print(f"\nchat on {target.name}: {_counts(results)}. {where}", highlight=False)


@verbs.delete.command("chat")
def delete_chat_command(
    name: str | None = NAME_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete (else: list what would go)."),
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
) -> None:
    """Remove the chat app (its namespace, and with its Service the load balancer; with
    the namespace goes its PostgreSQL's claim, and so the history volume). The cluster's
    add-ons stay."""
    from escala.ops.deploy import deployed_objects, undeploy, would_delete

    target = ClusterTarget.resolve(name, state, kubeconfig)
    objects = deployed_objects(_on_cluster(target))
    kube = target.kube()
    try:
        if not yes:
            _report(would_delete(kube, objects))
            console.print("\nMust specify --yes to delete the chat")
            return
        results = undeploy(kube, objects)
    finally:
        kube.close()
    _report(results)
    console.print(f"\nchat on {target.name}: {_counts(results)}", highlight=False)
