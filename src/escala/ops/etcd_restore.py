"""`escala restore etcd`: put a cluster's etcd back to one of its backups.

The procedure etcd documents for a multi-member cluster, run on every master through SSM
Run Command (`escala.cloud.aws.run_command`), one phase at a time and only once the
previous phase succeeded everywhere:

1. stop: every master stops its etcd and API server (no member may keep running on
   the old data, or the restored ones would meet it);
2. restore: every master replaces its member's data with the same snapshot, as a member
   of a new cluster made of all the running masters (same token, same member list);
3. start: every master starts them again; the members find each other and elect.

Refused before anything runs: a backup of another cluster, a corrupt snapshot, no
running master, and a cluster whose API still answers (restoring rolls back everything
written since the backup) unless `force`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from escala.bootstrap.master_files import ETCD_SCRIPT
from escala.cloud.aws.run_command import (
    CommandResult,
    Master,
    run_command,
    running_masters,
    wait_for_command,
)
from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError, UsageError
from escala.state import StateStore
from escala.state.backups import Backup, checked_backup

PHASES = ("stop", "restore", "start")
PEER_PORT = 2380  # kubeadm's etcd peer port


@dataclass(frozen=True)
class RestoreStep:
    phase: str
    master: Master
    argv: list[str]

    def to_dict(self) -> dict[str, object]:
        return {"phase": self.phase, "instance": self.master.instance_id,
                "member": self.master.name, "command": self.argv}  # fmt: skip


def restore_steps(cluster_name: str, backup: Backup, masters: list[Master]) -> list[RestoreStep]:
    """Every master's command of each phase, in the order they run."""
    initial = ",".join(f"{m.name}=https://{m.ip}:{PEER_PORT}" for m in masters)
    key = backup.key.removeprefix(f"{cluster_name}/")  # the script reads under its cluster
    argv = {
        "stop": lambda m: [ETCD_SCRIPT, "stop"],
        "restore": lambda m: [
            ETCD_SCRIPT, "restore", key, m.name, f"https://{m.ip}:{PEER_PORT}", initial
        ],
        "start": lambda m: [ETCD_SCRIPT, "start"],
    }  # fmt: skip
    return [RestoreStep(phase, m, argv[phase](m)) for phase in PHASES for m in masters]


def plan_restore(
    cloud: ClientFactory,
    store: StateStore,
    cluster_name: str,
    backup_id: str,
    *,
    api_answers: bool,
    force: bool,
) -> tuple[Backup, list[RestoreStep]]:
    """Check everything that can be checked before a master is touched; the steps."""
    backup = checked_backup(store, cluster_name, backup_id)
    if api_answers and not force:
        raise UsageError(
            f"the Kubernetes API of {cluster_name} answers: restoring {backup.id} would roll "
            f"the running cluster back to {backup.created:%Y-%m-%d %H:%M} UTC and lose "
            "everything written since. If that is what you want, pass --force"
        )
    masters = running_masters(cloud, cluster_name)
    if not masters:
        raise UsageError(
            f"{cluster_name} has no running master to restore onto; bring the masters back "
            f"with `escala update cluster --name {cluster_name} --yes` first"
        )
    return backup, restore_steps(cluster_name, backup, masters)


def run_restore(
    cloud: ClientFactory,
    steps: list[RestoreStep],
    progress: Callable[[RestoreStep, str], None] = lambda step, status: None,
    wait: Callable[[ClientFactory, str, str], CommandResult] = wait_for_command,
) -> None:
    """Run the steps phase by phase; stop at the first phase that fails anywhere, naming
    the master and what its command said."""
    for phase in PHASES:
        started = [
            (step, run_command(cloud, step.master.instance_id, step.argv, f"escala {phase} etcd"))
            for step in steps
            if step.phase == phase
        ]
        for step, command_id in started:
            result = wait(cloud, command_id, step.master.instance_id)
            progress(step, result.status)
            if result.status != "Success":
                said = result.stderr.strip().splitlines()[-1:] or ["no output"]
                raise CloudError(
                    f"etcd {phase} on {step.master.name} ({step.master.instance_id}): "
                    f"{result.status}: "
                    f"{said[0]}. Fix it on that master, then run `{' '.join(step.argv)}` there "
                    "and the later phases as docs/volumes.md describes"
                )
