"""`escala deploy chat`, `escala delete chat` and `escala get chatdeployments`: the chat
with HPA + cluster-autoscaler, and what `deploy chat` stored of it.

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
    validate_chat_deployment,
)
from escala.api.chat_scaling import CPU_TARGET
from escala.cli import verbs
from escala.cli.cluster import _csv
from escala.cli.naming import STATE_OPTION, names_argument
from escala.cli.output import (
    OUTPUT_OPTION,
    OutputFormat,
    apply_or_print_option,
    console,
    emit,
    one_or_all,
    table,
)
from escala.cli.output import err_console as status_console
from escala.cli.validate import KUBECONFIG_OPTION, NAME_OPTION, ClusterTarget

if TYPE_CHECKING:
    from escala.ops.deploy import Applied

# The flag that sets each ChatDeployment field: to say which came from the stored spec.
FLAGS = {
    "image": "--image",
    "min_replicas": "--min",
    "max_replicas": "--max",
    "cpu_target": "--cpu-target",
    "drain_timeout": "--drain-timeout",
    "database_secret": "--database-secret",
    "auth_secret": "--auth-secret",
    "allow_origin": "--allow-origin",
    "allow_eio3": "--allow-eio3",
}


def _default(flag: str, otherwise: object) -> str:
    """The help's default: a value given once is stored and kept (escala.ops.deploy)."""
    return f"(default: the last {flag} given, else {otherwise})"


def _as_flag(field: str, value: object) -> str:
    """A stored field as the flag that gives it: `--max 20`, `--no-allow-eio3`."""
    flag = FLAGS[field]
    if isinstance(value, bool):
        return flag if value else flag.replace("--", "--no-", 1)
    return f"{flag} {','.join(value) if isinstance(value, list) else value}"


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
        help="The chat's container image "
        + _default(
            "--image", "the one `escala image push --name` recorded for the cluster, by digest"
        )
        + ".",
    ),
    replicas: int | None = typer.Option(
        None,
        "--replicas",
        help="Replicas at first deploy (default: --min); the HPA owns it after.",
    ),
    min_replicas: int | None = typer.Option(
        None, "--min", help=f"HPA minimum {_default('--min', MIN_REPLICAS)}."
    ),
    max_replicas: int | None = typer.Option(
        None, "--max", help=f"HPA maximum {_default('--max', MAX_REPLICAS)}."
    ),
    cpu_target: int | None = typer.Option(
        None,
        "--cpu-target",
        help=f"HPA target: percent of the CPU request {_default('--cpu-target', CPU_TARGET)}.",
    ),
    drain_timeout: int | None = typer.Option(
        None,
        "--drain-timeout",
        help="Seconds the chat drains on SIGTERM; the grace period covers it "
        f"{_default('--drain-timeout', DRAIN_TIMEOUT)}.",
    ),
    database_secret: str | None = typer.Option(
        None,
        "--database-secret",
        help="Secret in escala-chat whose `url` key is a postgresql:// URL: history shared "
        "by all replicas " + _default("one", "escala's own PostgreSQL, on a volume") + ".",
    ),
    auth_secret: str | None = typer.Option(
        None,
        "--auth-secret",
        help="Secret in escala-chat whose `keys` key holds the chat's token keys: require a "
        "signed token at connect " + _default("one", "none") + "; see `escala chat token`.",
    ),
    allow_origin: str | None = typer.Option(
        None,
        "--allow-origin",
        help="Origins (https://host[:port], comma-separated) whose pages may connect "
        "besides the chat's own address " + _default("ones", "none") + ".",
    ),
    allow_eio3: bool | None = typer.Option(
        None,
        "--allow-eio3/--no-allow-eio3",
        help="Also serve Socket.IO 2 clients (socket.io-client 2.x), as the chat's "
        "--allow-eio3 " + _default("one", "off") + ".",
    ),
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    output: OutputFormat = apply_or_print_option("the manifests and list what changed"),
) -> None:
    """Run the chat on the cluster: Redis, the chat behind an NLB, its PDB and HPA, with
    metrics-server and cluster-autoscaler (on the masters). Safe to run again: unchanged
    objects stay as they are. Once applied, what was asked is stored with the cluster,
    and a flag not given next time keeps its value."""
    from escala.kube.manifests import NAMESPACE
    from escala.ops.deploy import asked_for, chat_address, deploy, desired, with_image
    from escala.state.base import CHAT_DEPLOYMENT

    target = ClusterTarget.resolve(name, state, kubeconfig)
    flags = {
        "image": image,
        "replicas": replicas,
        "min_replicas": min_replicas,
        "max_replicas": max_replicas,
        "cpu_target": cpu_target,
        "drain_timeout": drain_timeout,
        "database_secret": database_secret,
        "auth_secret": auth_secret,
        "allow_origin": None if allow_origin is None else _csv(allow_origin),
        "allow_eio3": allow_eio3,
    }
    wanted = asked_for(target.store, target.name, {k: v for k, v in flags.items() if v is not None})
    if wanted.kept:
        kept = ", ".join(_as_flag(k, v) for k, v in wanted.kept.items())
        status_console.print(
            f"From the stored spec ({target.store.url}/{target.name}/{CHAT_DEPLOYMENT}): {kept}",
            highlight=False,
        )
    chat = with_image(target.store, wanted.chat)
    validate_chat_deployment(chat)
    objects = desired(chat)
    if output is not OutputFormat.table:
        emit(objects, output, lambda: None)
        return
    kube = target.kube()
    try:
        with status_console.status(f"Applying {len(objects)} objects to {target.name}..."):
            results = deploy(kube, objects)
        target.store.put_chat_deployment(wanted.chat)
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
    the namespace goes its PostgreSQL's claim, and so the history volume) and the spec
    `deploy chat` stored. The cluster's add-ons stay."""
    from escala.ops.deploy import asked_for, deployed_objects, undeploy, would_delete

    target = ClusterTarget.resolve(name, state, kubeconfig)
    objects = deployed_objects(asked_for(target.store, target.name, {}).chat)
    kube = target.kube()
    try:
        if not yes:
            _report(would_delete(kube, objects))
            console.print("\nMust specify --yes to delete the chat")
            return
        results = undeploy(kube, objects)
        target.store.delete_chat_deployment(target.name)
    finally:
        kube.close()
    _report(results)
    console.print(f"\nchat on {target.name}: {_counts(results)}", highlight=False)


@verbs.get.command("chatdeployments")
@verbs.get.command("chatdeployment", hidden=True)
def get_chat_deployments_command(
    named: list[str] | None = names_argument("the chats of these clusters"),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List what `deploy chat` stored per cluster: CLUSTER IMAGE MIN MAX CPU-TARGET (the
    flags the next deploy keeps); with one NAME, `-o yaml` prints that document alone."""
    from escala.api.chat_deployment import dump_chat_deployment
    from escala.errors import NotFound
    from escala.state import open_store

    store = open_store(state)
    clusters = store.list_clusters()
    chats = []
    for cluster in named or clusters:
        if cluster not in clusters:
            raise NotFound(
                f"cluster {cluster!r} not found in state store {store.url} "
                "(see `escala get clusters`)"
            )
        chat = store.get_chat_deployment(cluster)
        if chat is None and named:
            raise NotFound(
                f"no chat deployed on cluster {cluster!r} in state store {store.url} "
                f"(`escala deploy chat --name {cluster}` deploys it)"
            )
        if chat is not None:
            chats.append(chat)
    emit(
        one_or_all([dump_chat_deployment(c) for c in chats], named),
        output,
        lambda: table(
            ["CLUSTER", "IMAGE", "MIN", "MAX", "CPU-TARGET"],
            [
                (
                    c.cluster_name,
                    c.spec.image if "image" in c.spec.model_fields_set else "(last pushed)",
                    c.spec.min_replicas,
                    c.spec.max_replicas,
                    f"{c.spec.cpu_target}%",
                )
                for c in chats
            ],
        ),
    )
