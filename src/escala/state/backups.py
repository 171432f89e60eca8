"""etcd backups in the state store: where the masters' timer puts them, and reading them back.

Each master's `escala-etcd backup` (bootstrap/files/escala-etcd.sh) writes, under
`<cluster>/backups/etcd/main/`, a snapshot `<stamp>-<member>.db` and then its metadata
`<stamp>-<member>.json` (`{"cluster", "created", "sha256", "size"}`): a backup is
listed once its metadata exists, and its checksum says whether the snapshot is whole.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from escala.errors import NotFound, UsageError
from escala.state.base import StateStore

ETCD_BACKUPS = "backups/etcd/main"
STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Backup:
    """One etcd backup; `key` is its state-store key without `.db`/`.json`."""

    key: str
    cluster: str
    created: datetime
    sha256: str
    size: int

    @property
    def id(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "key": self.key,
            "cluster": self.cluster,
            "created": self.created.isoformat(),
            "sha256": self.sha256,
            "size": self.size,
        }


def backups_prefix(cluster_name: str) -> str:
    return f"{cluster_name}/{ETCD_BACKUPS}/"


def _load(store: StateStore, key: str) -> Backup:
    raw = store.objects.read(f"{key}.json")
    if raw is None:
        raise NotFound(f"backup {key}: not in state store {store.url} (see `escala get backups`)")
    meta = json.loads(raw)
    created = datetime.strptime(meta["created"], STAMP).replace(tzinfo=UTC)
    return Backup(key, meta["cluster"], created, meta["sha256"], int(meta["size"]))


def list_backups(store: StateStore, cluster_name: str) -> list[Backup]:
    """The cluster's complete backups, oldest first."""
    keys = store.objects.list(backups_prefix(cluster_name))
    backups = [_load(store, k.removesuffix(".json")) for k in keys if k.endswith(".json")]
    return sorted(backups, key=lambda b: b.created)


def checked_backup(store: StateStore, cluster_name: str, backup: str) -> Backup:
    """The backup named `backup` (an ID from `escala get backups`, or a state-store key),
    refused unless it is this cluster's and its snapshot matches its checksum."""
    key = backup.removesuffix(".db").removesuffix(".json")
    if "/" not in key:
        key = backups_prefix(cluster_name) + key
    owner = key.split("/", 1)[0]
    found = _load(store, key) if owner == cluster_name else None
    if found is None or found.cluster != cluster_name:
        other = found.cluster if found else owner
        raise UsageError(
            f"--backup {backup}: a backup of cluster {other}, not {cluster_name}; "
            f"restoring it would replace {cluster_name}'s state with another cluster's. "
            f"Pick one of `escala get backups --name {cluster_name}`"
        )
    snapshot = store.objects.read(f"{key}.db")
    actual = hashlib.sha256(snapshot or b"").hexdigest()
    if actual != found.sha256:
        raise UsageError(
            f"--backup {backup}: the snapshot's sha256 is {actual[:12]}..., its metadata says "
            f"{found.sha256[:12]}...: it is corrupt or incomplete. Pick another backup"
        )
    return found
