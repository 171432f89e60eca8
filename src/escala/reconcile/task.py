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

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import as_dict, is_owned, legacy_filters, owned_filters
from escala.errors import CannotChangeField

Fields = dict[str, Any]


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
    # EC2 kinds name their describe call and the ID key of its items; `discover` is
    # then written once (see discover_ec2).
    ec2_describe: ClassVar[str] = ""
    ec2_id_key: ClassVar[str] = ""
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

    def prepare(self, cloud: ClientFactory) -> None:  # noqa: B027 (optional hook)
        """Look up what the desired state needs from AWS (an image ID) before anything is
        applied, so bad input fails with nothing created."""

    @abc.abstractmethod
    def desired(self) -> Fields:
        """The comparable desired fields; references appear by task name, never by ID."""

    @abc.abstractmethod
    def find(self, cloud: ClientFactory) -> Fields | None:
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
        """Refuse changes AWS cannot make in place, naming the field."""
        for change in changes:
            if change.field in self.immutable:
                raise CannotChangeField(
                    f"{self.key}: {change.field} cannot change from {change.old!r} to "
                    f"{change.new!r} once created; delete and recreate the cluster instead"
                )

    def expect(self, creating: bool) -> None:  # noqa: B027 (optional hook)
        """In a dry run, fill outputs dependents can predict (a next version number)."""

    def apply(
        self, cloud: ClientFactory, actual: Fields | None, changes: list[FieldChange]
    ) -> None:
        """Create the resource (actual is None) or bring it to the desired state."""
        if actual is None:
            self.create(cloud)
        else:
            self.update(cloud, changes)

    @abc.abstractmethod
    def create(self, cloud: ClientFactory) -> None:
        """Create the resource from `desired()` and record its outputs (`id`, ...)."""

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        raise NotImplementedError(f"{self.key}: cannot change {[c.field for c in changes]}")

    def extras(self, cloud: ClientFactory, tasks: list["Task"]) -> list["Owned"]:
        """Parts of the actual resource that no task wants any more (after `find`)."""
        return []

    def delete(self, cloud: ClientFactory) -> None:
        """Delete the resource `find` found."""
        if self.id is not None:
            self.delete_id(cloud, self.id)

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        raise NotImplementedError

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list["Owned"]:
        """Every resource of this kind the cluster owns (by tag); `shared` ones are not."""
        if not cls.ec2_describe:
            raise NotImplementedError(f"{cls.kind} cannot be discovered")
        return discover_ec2(cls, cloud, cluster_name)

    @staticmethod
    def ec2_blocks(item: dict[str, Any]) -> list[str]:
        """IDs the described EC2 `item` keeps from being deleted (its VPC, say)."""
        return []

    @staticmethod
    def ec2_blocked_by(item: dict[str, Any]) -> list[str]:
        """IDs that keep the described EC2 `item` from being deleted."""
        return []


class Discoverable(Protocol):
    """A kind `delete cluster` can find by ownership tags (every Task, and a few more)."""

    kind: ClassVar[str]
    iam_actions: ClassVar[tuple[str, ...]]

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list["Owned"]: ...

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None: ...


@dataclasses.dataclass
class Owned:
    """A resource found by its ownership tags, for `delete cluster`."""

    kind: str
    name: str
    id: str
    delete: Callable[[ClientFactory, str], None]
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


def discover_ec2(task: type[Task], cloud: ClientFactory, cluster_name: str) -> list[Owned]:
    """The owned resources of an EC2 kind, with their blockers: those tagged
    `kubernetes.io/cluster/<name>=owned`, and those tagged only `KubernetesCluster=<name>`
    (what older Kubernetes AWS code wrote), found with the kind's `ec2_describe` call;
    never those tagged `shared`."""
    describe = getattr(cloud.client("ec2"), task.ec2_describe)
    found: dict[str, dict[str, Any]] = {}
    for filters in (owned_filters(cluster_name), legacy_filters(cluster_name)):
        answer = describe(Filters=filters)
        items = next(v for k, v in answer.items() if isinstance(v, list) and k != "NextToken")
        for item in items:
            if is_owned(as_dict(item.get("Tags")), cluster_name):
                found[item[task.ec2_id_key]] = item
    return [
        Owned(
            task.kind,
            as_dict(item.get("Tags")).get("Name", item_id),
            item_id,
            task.delete_id,
            blocks=task.ec2_blocks(item),
            blocked_by=task.ec2_blocked_by(item),
        )
        for item_id, item in found.items()
    ]
