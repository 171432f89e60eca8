"""When the cluster's certificates expire, for `validate cluster`.

Read from what the operator holds, not from the machines: the CAs in the state store (ten
years, kubeadm's default) and the client certificate of the kubeconfig context in use
(escala's admin kubeconfig lives 18 hours). The masters' own kubeadm certificates (one
year) are renewed by every replacement and by the masters' renewal timer
(docs/operations.md, "Certificates").
"""

import base64
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509

from escala.bootstrap.secrets import CAS, cert_path
from escala.state import StateStore

# Renew once less than this share of a certificate's lifetime is left: a month of a year,
# ten months of a CA's ten years, an hour and a half of an 18-hour admin kubeconfig.
RENEW_SHARE = 1 / 12


@dataclass(frozen=True)
class CertificateExpiry:
    name: str
    not_before: dt.datetime
    not_after: dt.datetime
    renew: str  # how to get a new one

    def remaining(self, now: dt.datetime) -> dt.timedelta:
        return self.not_after - now

    def status(self, now: dt.datetime) -> str:
        left = self.remaining(now)
        if left <= dt.timedelta(0):
            return "expired"
        if left < (self.not_after - self.not_before) * RENEW_SHARE:
            return "renew soon"
        return "ok"


def _expiry(cert: x509.Certificate, name: str, renew: str) -> CertificateExpiry:
    return CertificateExpiry(name, cert.not_valid_before_utc, cert.not_valid_after_utc, renew)


def state_store_cas(store: StateStore, cluster_name: str) -> list[CertificateExpiry]:
    """The cluster's CAs (kubernetes, etcd, front-proxy) as the state store holds them."""
    renew = (
        "a CA is not renewed in place: kubeadm's manual CA rotation (not automated by escala), "
        "or a new cluster"
    )
    out = []
    for ca in CAS:
        pem = store.read_secret(cluster_name, cert_path(ca))
        if pem is not None:
            out.append(_expiry(x509.load_pem_x509_certificate(pem), f"CA {ca}", renew))
    return out


def _entry(entries: Iterable[dict[str, object]] | None, name: str) -> dict[str, object]:
    found = next((e for e in entries or [] if e.get("name") == name), {})
    return found if isinstance(found, dict) else {}


def kubeconfig_client(path: str, cluster_name: str) -> CertificateExpiry | None:
    """The client certificate of context `cluster_name` in the kubeconfig at `path`, if its
    user authenticates with one (a token or exec plugin has none to show)."""
    try:
        config = yaml.safe_load(Path(path).read_text()) or {}
        context = _entry(config.get("contexts"), cluster_name).get("context") or {}
        user_name = context.get("user") if isinstance(context, dict) else None
        user = _entry(config.get("users"), str(user_name)).get("user") or {}
        if not isinstance(user, dict):
            return None
        if user.get("client-certificate-data"):
            pem = base64.b64decode(str(user["client-certificate-data"]))
        elif user.get("client-certificate"):
            pem = Path(str(user["client-certificate"])).expanduser().read_bytes()
        else:
            return None
        cert = x509.load_pem_x509_certificate(pem)
    except (OSError, ValueError, yaml.YAMLError, AttributeError):
        return None  # the kube client reports an unusable kubeconfig itself
    renew = f"run `escala export kubeconfig --name {cluster_name} --admin`"
    return _expiry(cert, f"kubeconfig user {user_name}", renew)


def certificate_expiries(
    store: StateStore, cluster_name: str, kubeconfig: str
) -> list[CertificateExpiry]:
    """The CAs in the state store, then the kubeconfig's client certificate if any."""
    client = kubeconfig_client(kubeconfig, cluster_name)
    return [*state_store_cas(store, cluster_name), *([client] if client else [])]
