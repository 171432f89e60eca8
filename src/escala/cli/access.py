"""`escala access grant|list`: give a person a kubeconfig and a built-in role (seed 3.11)."""

from dataclasses import asdict
from pathlib import Path

import typer

from escala.cli.naming import STATE_OPTION
from escala.cli.output import (
    OUTPUT_OPTION,
    OutputFormat,
    apply_or_print_option,
    console,
    emit,
    err_console,
    table,
)
from escala.kube.rbac import AccessRole
from escala.state import open_store

access = typer.Typer(help="Grant people access to a cluster's API.", no_args_is_help=True)

NAME_OPTION = typer.Option(..., "--name", envvar="ESCALA_CLUSTER_NAME", help="Cluster name.")


@access.command("grant")
def grant_command(
    user: str = typer.Argument(..., help="User name (the certificate's CN)."),
    group: str = typer.Option(..., "--group", help="Group (the certificate's O) to bind."),
    role: AccessRole = typer.Option(
        ..., "--role", help="Built-in ClusterRole: view, edit or admin."
    ),
    namespace: str | None = typer.Option(
        None, "--namespace", help="Grant in this namespace only (default: cluster-wide)."
    ),
    ttl: str = typer.Option("720h", "--ttl", help="Certificate lifetime (e.g. 8h, 30d)."),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write their kubeconfig (default ./USER.CLUSTER.kubeconfig)."
    ),
    kubeconfig: str | None = typer.Option(
        None, "--kubeconfig", help="Your admin kubeconfig, to apply the binding."
    ),
    name: str = NAME_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = apply_or_print_option("the binding"),
) -> None:
    """Issue USER a client certificate and kubeconfig, and bind GROUP to ROLE."""
    from escala.cloud.aws.session import ClientFactory
    from escala.kube.client import KubeClient
    from escala.kube.kubeconfig import api_server_url, parse_ttl
    from escala.ops.access import GrantOptions, check, grant

    options = GrantOptions(
        cluster_name=name,
        user=user,
        group=group,
        role=role,
        namespace=namespace,
        ttl=parse_ttl(ttl),
        kubeconfig_out=out or Path(f"{user}.{name}.kubeconfig"),
    )
    check(options)
    store = open_store(state)
    region = store.get_cluster(name, completed=True).spec.region
    server = api_server_url(ClientFactory(region), name)
    printed = output is not OutputFormat.table
    if printed:
        record, binding = grant(store, options, server, apply=None)
        emit(binding, output, lambda: None)
    else:
        client = KubeClient.for_cluster(name, kubeconfig)
        try:
            record, binding = grant(store, options, server, apply=client.apply)
        finally:
            client.close()
        console.print(f"{binding['kind']} {binding['metadata']['name']} applied", highlight=False)
    (err_console if printed else console).print(
        f"kubeconfig for {record.user} written to {options.kubeconfig_out} "
        f"(expires {record.expires})",
        highlight=False,
    )


@access.command("list")
def list_command(
    name: str = NAME_OPTION, state: str | None = STATE_OPTION, output: OutputFormat = OUTPUT_OPTION
) -> None:
    """What was granted: user, group, role, namespace, expiry, certificate fingerprint."""
    from escala.ops.access import list_grants

    grants = [asdict(g) for g in list_grants(open_store(state), name)]
    columns = ["user", "group", "role", "namespace", "expires", "fingerprint"]
    emit(
        grants,
        output,
        lambda: table(
            [c.upper() for c in columns],
            [[g[c] or "(cluster)" if c == "namespace" else g[c] for c in columns] for g in grants],
        ),
    )
