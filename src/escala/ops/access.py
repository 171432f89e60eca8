"""`escala access grant|list`: a client certificate and kubeconfig for a person, the RBAC
binding that gives their group a built-in role, and a record of what was granted.

The private key goes only into the person's kubeconfig file; the state store keeps
the grant (user, group, role, namespace, expiry, certificate fingerprint) under
`<cluster>/access/<user>`. Certificates cannot be revoked in Kubernetes: keep TTLs
short and delete the binding to take access away.
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from escala.bootstrap import pki
from escala.bootstrap.secrets import cert_path, cluster_ca
from escala.errors import UsageError
from escala.kube.kubeconfig import Credentials, merge
from escala.kube.rbac import AccessRole, group_binding
from escala.private_files import write_private
from escala.state import StateStore

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


@dataclass(frozen=True)
class GrantOptions:
    cluster_name: str
    user: str
    group: str
    role: AccessRole
    namespace: str | None
    ttl: dt.timedelta
    kubeconfig_out: Path


@dataclass(frozen=True)
class Grant:
    """What `escala access list` shows; never the key."""

    user: str
    group: str
    role: str
    namespace: str | None
    expires: str
    fingerprint: str
    binding: str


def check(options: GrantOptions) -> None:
    """Refuse bad input before anything is made, naming the flag."""
    problems = []
    if not _USER.match(options.user) or options.user.startswith("system:"):
        problems.append(f"USER {options.user!r}: letters, digits, . _ @ - (not system:...)")
    if not options.group or options.group.startswith("system:"):
        problems.append(
            f"--group {options.group!r}: give your own group name; system: groups "
            "(e.g. system:masters) are Kubernetes's and cannot be granted here"
        )
    if options.namespace is not None and not _DNS_LABEL.match(options.namespace):
        problems.append(f"--namespace {options.namespace!r}: must be a DNS label (e.g. chat)")
    if problems:
        raise UsageError("; ".join(problems))


def record_path(user: str) -> str:
    return f"access/{user}"


def grant(
    store: StateStore,
    options: GrantOptions,
    server: str,
    apply: Callable[[dict[str, Any]], object] | None,
) -> tuple[Grant, dict[str, Any]]:
    """Issue the certificate, `apply` the RBAC binding (None: the caller prints it),
    then write the person's kubeconfig (0600) and record the grant, so a failed apply
    leaves no kubeconfig and no record behind.
    """
    check(options)
    store.get_cluster(options.cluster_name)
    ca = cluster_ca(store, options.cluster_name)
    issued = pki.issue_client_cert(ca, options.user, (options.group,), options.ttl)
    binding = group_binding(options.role, options.group, options.namespace)
    if apply is not None:
        apply(binding)
    creds = Credentials(
        cluster_name=options.cluster_name,
        server=server,
        ca_cert=store.read_secret(options.cluster_name, cert_path("ca")) or b"",
        user=options.user,
        client=issued,
    )
    config = merge({}, creds)
    if options.namespace:
        config["contexts"][0]["context"]["namespace"] = options.namespace
    write_private(options.kubeconfig_out, yaml.safe_dump(config, sort_keys=False).encode())
    record = Grant(
        user=options.user,
        group=options.group,
        role=options.role.value,
        namespace=options.namespace,
        expires=issued.cert.not_valid_after_utc.isoformat(),
        fingerprint=pki.fingerprint(pki.cert_pem(issued.cert)),
        binding=f"{binding['kind']}/{binding['metadata']['name']}",
    )
    store.write_secret(
        options.cluster_name,
        record_path(options.user),
        yaml.safe_dump(asdict(record), sort_keys=False).encode(),
    )
    return record, binding


def list_grants(store: StateStore, cluster_name: str) -> list[Grant]:
    store.get_cluster(cluster_name)
    grants = []
    for key in store.objects.list(f"{cluster_name}/access/"):
        data = yaml.safe_load(store.objects.read(key) or b"{}")
        grants.append(Grant(**data))
    return grants
