"""What every builder shares: the owner's name and the tasks built so far.

One context for both documents: a Cluster's builders (escala.model.cluster) and a
ChatService's (escala.model.chat_service) add their tasks here, so a second resource of
the same kind and name is refused the same way for both, and every resource carries the
owner's ownership tags.
"""

import dataclasses
from typing import TypeVar

from escala.api import Cluster, InstanceGroup, Role
from escala.cloud.aws.tags import ROLE_TAG, cluster_tags
from escala.errors import SpecInvalid
from escala.reconcile.task import Task

T = TypeVar("T", bound=Task)


@dataclasses.dataclass
class ModelContext:
    owner: str  # the cluster's or chat service's name: the ownership tags' value
    tasks: dict[str, Task] = dataclasses.field(default_factory=dict)

    def add(self, task: T) -> T:
        if task.key in self.tasks:
            raise SpecInvalid([f"{task.key}: two resources of the same name"], self.owner)
        self.tasks[task.key] = task
        return task

    def get(self, kind: type[T], name: str) -> T:
        """A task an earlier builder made (a KeyError here is a builder-order bug)."""
        task = self.tasks[f"{kind.kind}/{name}"]
        assert isinstance(task, kind)
        return task

    def tags(self, name: str, **extra: str) -> dict[str, str]:
        return cluster_tags(self.owner, name, **extra)


@dataclasses.dataclass
class ClusterContext(ModelContext):
    """The context of a cluster's builders: the completed spec rides along."""

    cluster: Cluster = dataclasses.field(kw_only=True)
    groups: list[InstanceGroup] = dataclasses.field(kw_only=True)
    ssh_public_key: str | None = dataclasses.field(default=None, kw_only=True)

    @property
    def cluster_name(self) -> str:
        return self.owner

    def role_tags(self, name: str, role: Role) -> dict[str, str]:
        return self.tags(name, **{ROLE_TAG: role.value.lower()})

    def require(self, value: object, field: str) -> None:
        """The model needs a completed spec; a missing default is a bug upstream."""
        if value in (None, "", []):
            raise SpecInvalid(
                [
                    f"{field}: missing from the completed spec (run `escala update cluster` after "
                    "`escala create cluster` wrote it, or fill it with `escala edit cluster`)"
                ],
                self.owner,
            )
