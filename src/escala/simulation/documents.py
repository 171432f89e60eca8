"""Reading the lab's small YAML documents (profiles, capacity models) with errors that
name the field, as the spec types do: every problem at once, exit 2."""

import math
import re
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from escala.errors import SpecInvalid, UsageError

API_VERSION = "escala.io/v1alpha1"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")


class Document(BaseModel):
    """camelCase on the wire, unknown fields refused (a typo must not be ignored)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def seconds(value: Any) -> float:
    """`90`, `90s`, `15m`, `1h30m`, `1d` -> seconds; refuses negatives, NaN and words."""
    if isinstance(value, bool):
        raise ValueError("give a duration such as 90s, 15m or 2h")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).replace(" ", "")
        if not _DURATION.match(text):
            raise ValueError(f"{value!r} is not a duration; give e.g. 90s, 15m, 1h30m or 1d")
        number = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{value!r} is not a duration of zero or more seconds")
    return number


Seconds = Annotated[float, BeforeValidator(seconds)]


def human(total: float) -> str:
    """Seconds back to the way a profile writes them: 5400 -> `1h30m`."""
    out, left = "", round(total)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            out += f"{left // size}{unit}"
            left %= size
    return out or "0s"


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("spec", "steps", 1, "at")` -> `spec.steps[1].at`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, source: str) -> M:
    """Validate decoded data; SpecInvalid lists every problem by its field path."""
    if not isinstance(data, dict):
        raise SpecInvalid([f"(document): expected a mapping, got {type(data).__name__}"], source)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{field_path(tuple(err['loc']))}: {message}")
        raise SpecInvalid(problems, source) from e


def read_yaml(path: Path, what: str) -> Any:
    """The decoded YAML of `path`; a missing file or broken YAML is a UsageError."""
    try:
        text = path.read_text()
    except OSError as e:
        raise UsageError(f"{what} {path}: cannot read it ({e.strerror})") from e
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SpecInvalid([f"(document): not valid YAML: {e}"], f"{what} {path}") from e
