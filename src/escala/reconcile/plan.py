"""What `update cluster` will do (or did): one change per resource, rendered for people
and for scripts. Pure data, no AWS."""

import dataclasses
import enum
import json
from typing import Any

from escala.reconcile.task import FieldChange

NO_CHANGES = "No changes need to be applied"


class Action(enum.StrEnum):
    create = "create"
    modify = "modify"
    delete = "delete"


@dataclasses.dataclass(frozen=True)
class Change:
    """One resource's change; `fields` are every desired field on create, the differing
    ones on modify."""

    kind: str
    name: str
    action: Action
    fields: tuple[FieldChange, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"


def show_value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def field_text(action: Action, change: FieldChange) -> str:
    """`new` for a creation, `old -> new` for a modification."""
    if action is Action.create:
        return show_value(change.new)
    return f"{show_value(change.old)} -> {show_value(change.new)}"


@dataclasses.dataclass
class Plan:
    cluster_name: str
    changes: list[Change] = dataclasses.field(default_factory=list)
    applied: bool = False
    # What the changes mean that their fields cannot say (a target's translation),
    # printed under the counts when there are changes.
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def by_action(self, action: Action) -> list[Change]:
        return [c for c in self.changes if c.action is action]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster_name,
            "applied": self.applied,
            "changes": [
                {
                    "kind": c.kind,
                    "name": c.name,
                    "action": str(c.action),
                    "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in c.fields],
                }
                for c in self.changes
            ],
            **({"notes": self.notes} if self.notes else {}),
        }

    def render(self) -> str:
        """The plan as kops prints it: creations, then modifications old -> new, then
        deletions. Stable text: golden scenario tests compare it byte for byte."""
        if self.empty:
            return NO_CHANGES + "\n"
        headings = {
            Action.create: "Will create resources:",
            Action.modify: "Will modify resources:",
            Action.delete: "Will delete resources:",
        }
        lines: list[str] = []
        for action, heading in headings.items():
            changes = self.by_action(action)
            if not changes:
                continue
            lines.append(heading)
            for change in changes:
                lines.append(f"  {change.key}")
                width = max((len(f.field) for f in change.fields), default=0)
                for f in change.fields:
                    lines.append(f"    {f.field.ljust(width)}  {field_text(action, f)}")
            lines.append("")
        counts = ", ".join(f"{len(self.by_action(a))} to {a}" for a in Action)
        lines.append(f"Plan: {counts}.")
        lines += self.notes
        return "\n".join(lines) + "\n"
