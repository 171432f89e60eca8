"""The shape every AWS task has: one AWS resource, found, diffed, applied, deleted.

A task holds the *desired* resource. Fields that point at other tasks (`subnet.vpc`)
are what the engine orders by, so no hand-written list decides what comes first.
`find` reads the *actual* resource from AWS and fills in the task's outputs (IDs,
ARNs, versions) that dependent tasks use; IDs and ARNs never take part in a diff: a
task compares the plain values returned by `desired()` and `find()`.
"""

import abc
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Protocol

from escala.errors import CannotChangeField

Fields = dict[str, Any]


class Cloud(Protocol):
    """What the engine hands every task: the provider's API clients for one region
    (escala.cloud.aws.session.Cloud), so the engine itself names no provider."""

    @property
    def region(self) -> str: ...

    def client(self, service: str) -> Any: ...


@dataclasses.dataclass(frozen=True)
class FieldChange:
    """One field whose actual value differs from the desired one."""

    field: str
    old: Any
    new: Any


@dataclasses.dataclass(eq=False, kw_only=True)
class Task(abc.ABC):
    """Base of every AWS task; subclasses are dataclasses named after the AWS noun."""

    kind: ClassVar[str]
    # Every IAM action the task's find/apply/delete calls need: the operator's
    # least-privilege policy is built from these (see escala.cloud.aws.registry).
    iam_actions: ClassVar[tuple[str, ...]]
    # Fields that AWS cannot change in place; a change is refused with CannotChangeField.
    immutable: ClassVar[frozenset[str]] = frozenset()

    name: str
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    id: str | None = dataclasses.field(default=None, init=False)

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"

    def dependencies(self) -> Iterator["Task"]:
        """The tasks this one refers to through its fields (and so must follow)."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, list | tuple) else [value]
            for v in values:
                if isinstance(v, Task):
                    yield v

    def prepare(self, cloud: Cloud) -> None:  # noqa: B027 (optional hook)
        """Look up what the desired state needs from AWS (an image ID) before anything is
        applied, so bad input fails with nothing created."""

    @abc.abstractmethod
    def desired(self) -> Fields:
        """The comparable desired fields; references appear by task name, never by ID."""

    @abc.abstractmethod
    def find(self, cloud: Cloud) -> Fields | None:
        """The actual resource's comparable fields, or None when it does not exist.

        Also records outputs (`id`, ...) for dependent tasks. A task whose reference
        has no ID yet (not created) returns None: it cannot exist either.
        """

    def diff(self, actual: Mapping[str, Any] | None) -> list[FieldChange]:
        """Field-level changes from `actual` to `desired()`; every field when creating."""
        desired = self.desired()
        if actual is None:
            return [FieldChange(k, None, v) for k, v in desired.items()]
        return [FieldChange(k, actual.get(k), v) for k, v in desired.items() if actual.get(k) != v]

    def check_changes(self, changes: list[FieldChange]) -> None:
        """Refuse changes AWS cannot make in place, naming the field: the `immutable`
        ones, and any change to a kind that has no `update` (at plan time, so nothing
        is half-applied)."""
        kind = type(self)
        in_place = kind.update is not Task.update or kind.apply is not Task.apply
        for change in changes:
            if change.field in self.immutable or not in_place:
                raise CannotChangeField(
                    f"{self.key}: {change.field} cannot change from {change.old!r} to "
                    f"{change.new!r} once created; delete and recreate the cluster instead"
                )

    def expect(self, creating: bool) -> None:  # noqa: B027 (optional hook)
        """In a dry run, fill outputs dependents can predict (a next version number)."""

    def apply(self, cloud: Cloud, actual: Fields | None, changes: list[FieldChange]) -> None:
        """Create the resource (actual is None) or bring it to the desired state."""
        if actual is None:
            self.create(cloud)
        else:
            self.update(cloud, changes)

    @abc.abstractmethod
    def create(self, cloud: Cloud) -> None:
        """Create the resource from `desired()` and record its outputs (`id`, ...)."""

    def update(self, cloud: Cloud, changes: list[FieldChange]) -> None:
        """Bring an existing resource to `desired()`; kinds without it refuse every change
        in `check_changes`, so this default is never reached."""
        raise CannotChangeField(f"{self.key}: cannot change {[c.field for c in changes]}")

    def extras(self, cloud: Cloud, tasks: list["Task"]) -> list["Owned"]:
        """Parts of the actual resource that no task wants any more (after `find`)."""
        return []

    def delete(self, cloud: Cloud) -> None:
        """Delete the resource `find` found."""
        if self.id is not None:
            self.delete_id(cloud, self.id)

    @classmethod
    def delete_id(cls, cloud: Cloud, resource_id: str) -> None:
        """Delete the resource with this ID. Kinds that go with their parent (a
        listener with its load balancer) never are, so none is needed; asking is a
        programming error, said by name."""
        raise NotImplementedError(f"{cls.kind} is deleted with its parent, never by ID")

    @classmethod
    def discover(cls, cloud: Cloud, cluster_name: str) -> list["Owned"]:
        """Every resource of this kind the cluster owns (by tag); `shared` ones are not.
        Kinds deleted with their parent are not in the registry's deletable kinds."""
        raise NotImplementedError(f"{cls.kind} cannot be discovered")


class Discoverable(Protocol):
    """A kind `delete cluster` can find by ownership tags (every Task, and a few more)."""

    kind: ClassVar[str]
    iam_actions: ClassVar[tuple[str, ...]]

    @classmethod
    def discover(cls, cloud: Cloud, cluster_name: str) -> list["Owned"]: ...

    @classmethod
    def delete_id(cls, cloud: Cloud, resource_id: str) -> None: ...


@dataclasses.dataclass
class Owned:
    """A resource found by its ownership tags, for `delete cluster`."""

    kind: str
    name: str
    id: str
    delete: Callable[[Cloud, str], None]
    # IDs of the resources this one keeps from being deleted (a subnet blocks its VPC)...
    blocks: list[str] = dataclasses.field(default_factory=list)
    # ...and of those that keep this one (a load balancer keeps its target group).
    blocked_by: list[str] = dataclasses.field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"


def ref_name(task: Task | None) -> str | None:
    return None if task is None else task.name


def ids(tasks: list[Task]) -> list[str] | None:
    """IDs of referenced tasks, or None when any is not created yet."""
    found = [t.id for t in tasks]
    return None if any(i is None for i in found) else [str(i) for i in found]
