"""What every builder shares: the completed spec and the tasks built so far."""

import dataclasses
from typing import TypeVar

from escala.api import Cluster, InstanceGroup, Role
from escala.cloud.aws.tags import ROLE_TAG, cluster_tags
from escala.errors import SpecInvalid
from escala.reconcile.task import Task

T = TypeVar("T", bound=Task)


@dataclasses.dataclass
class ModelContext:
    cluster: Cluster
    groups: list[InstanceGroup]
    ssh_public_key: str | None = None
    tasks: dict[str, Task] = dataclasses.field(default_factory=dict)

    @property
    def cluster_name(self) -> str:
        return self.cluster.name

    def add(self, task: Task) -> Task:
        if task.key in self.tasks:
            raise SpecInvalid([f"{task.key}: two resources of the same name"], self.cluster_name)
        self.tasks[task.key] = task
        return task

    def get(self, kind: type[T], name: str) -> T:
        """A task an earlier builder made (a KeyError here is a builder-order bug)."""
        task = self.tasks[f"{kind.kind}/{name}"]
        assert isinstance(task, kind)
        return task

    def tags(self, name: str, **extra: str) -> dict[str, str]:
        return cluster_tags(self.cluster_name, name, **extra)

    def role_tags(self, name: str, role: Role) -> dict[str, str]:
        return self.tags(name, **{ROLE_TAG: "master" if role is Role.master else "node"})

    def require(self, value: object, field: str) -> None:
        """The model needs a completed spec; a missing default is a bug upstream."""
        if value in (None, "", []):
            raise SpecInvalid(
                [
                    f"{field}: missing from the completed spec (run `escala update cluster` after "
                    "`escala create cluster` wrote it, or fill it with `escala edit cluster`)"
                ],
                self.cluster_name,
            )
