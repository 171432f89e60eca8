"""A change the engine cannot make in place is refused while planning, naming the
resource and the field, so an apply never stops halfway with nothing said."""

from typing import Any

import pytest

from escala.errors import CannotChangeField
from escala.reconcile.task import FieldChange, Task


class _CreateOnly(Task):
    kind = "Thing"

    def desired(self) -> dict[str, Any]:
        return {"size": 2}

    def find(self, cloud: Any) -> dict[str, Any] | None:
        return {"size": 1}

    def create(self, cloud: Any) -> None:
        pass


class _Updatable(_CreateOnly):
    def update(self, cloud: Any, changes: list[FieldChange]) -> None:
        pass


def test_a_kind_without_update_refuses_any_change_naming_it() -> None:
    task = _CreateOnly(name="a")
    changes = task.diff(task.find(None))
    with pytest.raises(CannotChangeField, match=r"Thing/a: size cannot change from 1 to 2"):
        task.check_changes(changes)


def test_a_kind_with_update_takes_the_same_change() -> None:
    task = _Updatable(name="a")
    task.check_changes(task.diff(task.find(None)))
