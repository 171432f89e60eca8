"""`escala export kubeconfig`: merge a context for the cluster into a kubeconfig."""

from pathlib import Path

import typer

from escala.cli import verbs
from escala.cli.naming import CLUSTER_ARGUMENT, NAME_OPTION, STATE_OPTION, cluster_name
from escala.cli.output import console
from escala.state import open_store


@verbs.export.command("kubeconfig")
def kubeconfig(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    admin: bool = typer.Option(
        False, "--admin", help="Add an admin client certificate signed by the cluster CA."
    ),
    ttl: str = typer.Option(
        "18h", "--ttl", help="Lifetime of the admin certificate (kops's default: 18h)."
    ),
    path: Path | None = typer.Option(
        None, "--kubeconfig", help="File to merge into (default $KUBECONFIG or ~/.kube/config)."
    ),
    state: str | None = STATE_OPTION,
) -> None:
    """Write the cluster's API endpoint and CA (and an admin certificate) to a kubeconfig."""
    from escala.cloud.aws.session import ClientFactory
    from escala.kube.kubeconfig import default_path, export_kubeconfig, parse_ttl

    name = cluster_name(cluster, name)
    store = open_store(state)
    region = store.get_cluster(name, completed=True).spec.region
    target = path or default_path()
    lifetime = parse_ttl(ttl) if admin else None
    creds = export_kubeconfig(store, ClientFactory(region), name, target, lifetime)
    console.print(f"escala has set your kubectl context to {name}", highlight=False)
    console.print(f"server {creds.server}; written to {target}", highlight=False)
