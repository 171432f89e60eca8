"""kubeconfig files: a context per cluster, merged into the user's file, mode 0600.

The server is the API Network Load Balancer, found by the naming contract (`api-<cluster
with dashes>`, 32 chars); the client certificate is signed by the cluster CA here, so a
kubeconfig never depends on anything the cluster itself serves.
"""

import base64
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from escala.bootstrap import pki
from escala.bootstrap.secrets import cert_path, cluster_ca
from escala.cloud.aws.load_balancer import api_load_balancer_name, dns_name
from escala.cloud.aws.session import ClientFactory
from escala.errors import NotFound, UsageError
from escala.private_files import write_private
from escala.state import StateStore

# kubeadm >= 1.29 writes admin.conf with this group, bound to cluster-admin by a
# ClusterRoleBinding it creates; system:masters is kept for its break-glass super-admin.
ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "kubeadm:cluster-admins"
DEFAULT_ADMIN_TTL = dt.timedelta(hours=18)


def api_server_url(clients: ClientFactory, cluster_name: str) -> str:
    """`https://<NLB DNS name>` of the cluster's API load balancer."""
    name = api_load_balancer_name(cluster_name)
    found = dns_name(clients, name)
    if found is None:
        raise NotFound(
            f"API load balancer {name} of cluster {cluster_name} does not exist; "
            f"run `escala update cluster --name {cluster_name} --yes` first"
        )
    return f"https://{found}"


def parse_ttl(text: str, flag: str = "--ttl") -> dt.timedelta:
    """`18h`, `30m`, `2d`, `90s` -> timedelta; UsageError naming the flag otherwise."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    # isascii: str.isdigit also takes "²", which int() refuses with a traceback.
    if unit not in units or not (number.isascii() and number.isdigit()) or int(number) == 0:
        raise UsageError(f"{flag} {text!r}: give a positive duration such as 18h, 30m or 2d")
    return dt.timedelta(**{units[unit]: int(number)})


@dataclass(frozen=True)
class Credentials:
    """Everything a kubeconfig context needs."""

    cluster_name: str
    server: str
    ca_cert: bytes
    user: str
    client: pki.KeyPair | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def entries(creds: Credentials) -> dict[str, dict[str, Any]]:
    """The cluster, user and context entries, each named after the cluster (as kops)."""
    name = creds.cluster_name
    user: dict[str, Any] = {}
    if creds.client is not None:
        user = {
            "client-certificate-data": _b64(pki.cert_pem(creds.client.cert)),
            "client-key-data": _b64(pki.key_pem(creds.client.key)),
        }
    return {
        "clusters": {
            "name": name,
            "cluster": {"server": creds.server, "certificate-authority-data": _b64(creds.ca_cert)},
        },
        "users": {"name": creds.user, "user": user},
        "contexts": {"name": name, "context": {"cluster": name, "user": creds.user}},
    }


def merge(config: dict[str, Any], creds: Credentials) -> dict[str, Any]:
    """`config` with the cluster's entries replaced or added and made current."""
    merged = dict(config) or {"apiVersion": "v1", "kind": "Config", "preferences": {}}
    for section, entry in entries(creds).items():
        kept = [e for e in merged.get(section) or [] if e.get("name") != entry["name"]]
        merged[section] = [*kept, entry]
    merged["current-context"] = creds.cluster_name
    return merged


def default_path() -> Path:
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first) if first else Path.home() / ".kube" / "config"


def write_merged(path: Path, creds: Credentials) -> None:
    """Merge into the file at `path` (created if missing), always left at mode 0600."""
    try:
        config = yaml.safe_load(path.read_text()) if path.exists() else {}
    except yaml.YAMLError as e:
        raise UsageError(f"--kubeconfig {path}: not valid YAML ({e}); fix or move it") from e
    if not isinstance(config, dict):
        config = {}
    write_private(path, yaml.safe_dump(merge(config, creds), sort_keys=False).encode())


def export_kubeconfig(
    store: StateStore,
    clients: ClientFactory,
    cluster_name: str,
    path: Path,
    admin_ttl: dt.timedelta | None,
) -> Credentials:
    """`escala export kubeconfig`: a context for the cluster, with an admin client
    certificate of `admin_ttl` when given (none otherwise: the user brings their own)."""
    store.get_cluster(cluster_name)
    ca_cert = store.read_secret(cluster_name, cert_path("ca"))
    if ca_cert is None:
        raise NotFound(
            f"cluster {cluster_name} has no CA yet; run "
            f"`escala update cluster --name {cluster_name} --yes` first"
        )
    client = None
    if admin_ttl is not None:
        client = pki.issue_client_cert(
            cluster_ca(store, cluster_name), ADMIN_USER, (ADMIN_GROUP,), admin_ttl
        )
    creds = Credentials(
        cluster_name=cluster_name,
        server=api_server_url(clients, cluster_name),
        ca_cert=ca_cert,
        user=cluster_name if client is None else f"{cluster_name}-admin",
        client=client,
    )
    write_merged(path, creds)
    return creds
