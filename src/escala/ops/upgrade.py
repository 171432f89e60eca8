"""Move a cluster to a newer Kubernetes version, the kops + kubeadm way.

Only the spec changes here (the Cluster and its completed spec in the state store); the
new version reaches the machines through `update cluster --yes` (new launch-template
versions whose user-data installs it) and `rolling-update cluster --yes` (control plane
first, as kubeadm requires). kubeadm's rules apply: no downgrades, and no skipping a
minor version (1.30 -> 1.32 must go through 1.31).
"""

from dataclasses import dataclass

from escala.errors import UsageError
from escala.kube.versions import SUPPORTED, minor_of, parse_version
from escala.state import StateStore

FLAG = "--kubernetes-version"


@dataclass
class UpgradePlan:
    cluster: str
    current: str
    target: str | None  # None: already at the newest supported version
    applied: bool = False

    @property
    def changes(self) -> bool:
        return self.target is not None and self.target != self.current


def propose(current: str) -> str | None:
    """The latest patch of the next supported minor, else a newer patch of this one."""
    major, minor, _ = parse_version(current)
    for candidate_minor in (f"{major}.{minor + 1}", f"{major}.{minor}"):
        candidate = SUPPORTED.get(candidate_minor)
        if candidate and parse_version(candidate) > parse_version(current):
            return candidate
    return None


def check_upgrade(current: str, target: str, field: str = FLAG) -> None:
    """Refuse what kubeadm refuses, naming `field` (the flag, or the spec field of an
    edit) and the fix."""
    old, new = parse_version(current), parse_version(target, field)
    if minor_of(target) not in SUPPORTED:
        known = ", ".join(SUPPORTED)
        raise UsageError(f"{field} {target}: minor {minor_of(target)} is not supported ({known})")
    if new < old:
        raise UsageError(
            f"{field} {target}: downgrades are not supported (cluster runs {current}); "
            f"keep {current} or choose a newer release"
        )
    if new[0] != old[0] or new[1] > old[1] + 1:
        step = SUPPORTED.get(f"{old[0]}.{old[1] + 1}", f"{old[0]}.{old[1] + 1}.x")
        raise UsageError(
            f"{field} {target}: cannot skip a minor version (cluster runs {current}); "
            f"upgrade to {step} first"
        )


def upgrade_cluster(
    store: StateStore, cluster_name: str, target: str | None, yes: bool
) -> UpgradePlan:
    """Plan the upgrade and, with `yes`, write the new version into both specs."""
    cluster = store.get_cluster(cluster_name)
    completed = store.get_cluster(cluster_name, completed=True)
    current = completed.spec.kubernetes_version or cluster.spec.kubernetes_version
    if not current:
        raise UsageError(
            f"cluster {cluster_name} has no kubernetesVersion in its completed spec; "
            "run `escala update cluster` first"
        )
    if target is None:
        target = propose(current)
    else:
        target = target.strip().removeprefix("v")
        check_upgrade(current, target)
    plan = UpgradePlan(cluster_name, current, target)
    if yes and plan.changes:
        cluster.spec.kubernetes_version = target
        completed.spec.kubernetes_version = target
        store.put_cluster(cluster, completed)
        plan.applied = True
    return plan
