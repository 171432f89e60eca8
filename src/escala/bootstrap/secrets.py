"""The cluster's secrets in the state store: made once, never printed, listed by fingerprint.

Layout (kops's): `pki/private/<name>/key.pem` and `pki/issued/<name>/cert.pem` for the
CAs; `pki/private/service-account/key.pem` + `pki/issued/service-account/key.pub`;
`pki/private/bootstrap-token/token`. Worker nodes may read only `node/`: the cluster
CA's certificate and the join token, never a private key.
"""

import secrets as random
import string
from dataclasses import dataclass

from escala.api import Cluster
from escala.bootstrap import pki
from escala.errors import NotFound
from escala.state import StateStore

# name in the store -> the CN kubeadm gives the same CA
CAS = {"ca": "kubernetes", "etcd-ca": "etcd-ca", "front-proxy-ca": "front-proxy-ca"}
SERVICE_ACCOUNT = "service-account"
BOOTSTRAP_TOKEN = "bootstrap-token"
NODE_CA_CERT = "node/ca.crt"
NODE_TOKEN = "node/bootstrap-token"
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits


def key_path(name: str) -> str:
    return f"pki/private/{name}/key.pem"


def cert_path(name: str) -> str:
    return f"pki/issued/{name}/cert.pem"


SA_PUBLIC = f"pki/issued/{SERVICE_ACCOUNT}/key.pub"
TOKEN_PATH = f"pki/private/{BOOTSTRAP_TOKEN}/token"


def new_bootstrap_token() -> str:
    """A kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}` (id.secret)."""
    pick = lambda n: "".join(random.choice(_TOKEN_ALPHABET) for _ in range(n))  # noqa: E731
    return f"{pick(6)}.{pick(16)}"


def ensure_cluster_secrets(store: StateStore, cluster: Cluster) -> list[str]:
    """Create whatever secret of `cluster` is missing; return the names created.

    Idempotent: existing keys are never replaced (replacing a CA would orphan every
    certificate it signed), so running it before every apply is safe.
    """
    name = cluster.name
    created: list[str] = []
    for ca_name, common_name in CAS.items():
        if store.read_secret(name, cert_path(ca_name)) is None:
            ca = pki.new_ca(common_name)
            store.write_secret(name, key_path(ca_name), pki.key_pem(ca.key))
            store.write_secret(name, cert_path(ca_name), pki.cert_pem(ca.cert))
            created.append(ca_name)
    if store.read_secret(name, SA_PUBLIC) is None:
        key = pki.new_key()
        store.write_secret(name, key_path(SERVICE_ACCOUNT), pki.key_pem(key))
        store.write_secret(name, SA_PUBLIC, pki.public_key_pem(key))
        created.append(SERVICE_ACCOUNT)
    if store.read_secret(name, TOKEN_PATH) is None:
        store.write_secret(name, TOKEN_PATH, new_bootstrap_token().encode())
        created.append(BOOTSTRAP_TOKEN)
    # Node copies are rewritten every time so they follow the master copies.
    store.write_secret(name, NODE_CA_CERT, _require(store, name, cert_path("ca")))
    store.write_secret(name, NODE_TOKEN, _require(store, name, TOKEN_PATH))
    return created


def _require(store: StateStore, cluster_name: str, path: str) -> bytes:
    data = store.read_secret(cluster_name, path)
    if data is None:
        raise NotFound(
            f"secret {path} of cluster {cluster_name!r} is missing from {store.url}; "
            f"run `escala update cluster --name {cluster_name} --yes` to create it"
        )
    return data


def cluster_ca(store: StateStore, cluster_name: str) -> pki.KeyPair:
    """The cluster CA (signs API clients), as stored."""
    return pki.load_pair(
        _require(store, cluster_name, key_path("ca")),
        _require(store, cluster_name, cert_path("ca")),
    )


@dataclass(frozen=True)
class SecretInfo:
    """What `escala get secrets` may show: never the secret itself."""

    name: str
    type: str
    fingerprint: str


def list_secrets(store: StateStore, cluster_name: str) -> list[SecretInfo]:
    """Every secret of the cluster with the SHA-256 fingerprint of its public part
    (certificate DER, public key PEM) or, for the token, of the token itself."""
    store.get_cluster(cluster_name)  # NotFound names the cluster
    out = [
        SecretInfo(ca, "Keypair", pki.fingerprint(data))
        for ca in CAS
        if (data := store.read_secret(cluster_name, cert_path(ca))) is not None
    ]
    if (public := store.read_secret(cluster_name, SA_PUBLIC)) is not None:
        out.append(SecretInfo(SERVICE_ACCOUNT, "KeypairNoCertificate", pki.fingerprint(public)))
    if (token := store.read_secret(cluster_name, TOKEN_PATH)) is not None:
        out.append(SecretInfo(BOOTSTRAP_TOKEN, "BootstrapToken", pki.fingerprint(token)))
    return out
