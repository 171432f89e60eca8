"""Load profiles: how many people are connected and how many messages they send, over
simulated time, as steps, ramps or a daily curve in a small YAML document.

```yaml
apiVersion: escala.io/v1alpha1
kind: LoadProfile
metadata: {name: morning-step}
spec:
  duration: 4h
  roomSize: 50            # recipients of a message; leave out for one lobby
  steps:
  - {from: 0h, to: 1h, connections: 200, messagesPerSecond: 5}
  ramps:
  - {from: 1h, to: 1h15m, connections: [200, 4000], messagesPerSecond: [5, 200]}
```

Segments cover [from, to) and may not overlap; time no segment covers has no load.
`day` instead gives a cosine between a night trough and a peak. `noise` multiplies each
simulated minute by a seeded normal factor, so a run is the same for the same seed.
"""

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from escala.errors import SpecInvalid
from escala.simulation.documents import Document, Seconds, human, parse, read_yaml

KIND = "LoadProfile"
YEAR_S = 365 * 86400
DAY_S = 86400.0
NonNegative = Field(ge=0, allow_inf_nan=False)


class Metadata(Document):
    name: str


class Step(Document):
    from_: Seconds = Field(alias="from")
    to: Seconds
    connections: float = NonNegative
    messages_per_second: float = NonNegative


class Ramp(Document):
    from_: Seconds = Field(alias="from")
    to: Seconds
    connections: tuple[float, float]
    messages_per_second: tuple[float, float]


class Day(Document):
    min_connections: float = NonNegative
    max_connections: float = NonNegative
    peak_at: Seconds = 15 * 3600.0
    messages_per_connection: float = NonNegative


class ProfileSpec(Document):
    duration: Seconds
    room_size: int | None = Field(default=None, ge=1)
    noise: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    steps: list[Step] = Field(default_factory=list)
    ramps: list[Ramp] = Field(default_factory=list)
    day: Day | None = None


class LoadProfile(Document):
    api_version: Literal["escala.io/v1alpha1"]
    kind: Literal["LoadProfile"]
    metadata: Metadata
    spec: ProfileSpec

    @property
    def name(self) -> str:
        return self.metadata.name


@dataclass(frozen=True)
class Load:
    """The profile sampled every `tick_s`: arrays of equal length, one value per tick."""

    tick_s: float
    times_s: np.ndarray
    connections: np.ndarray
    messages_per_s: np.ndarray
    room_size: int | None

    def __post_init__(self) -> None:
        # Plain lists for the simulator's per-tick reads (numpy scalars are slow one by one).
        object.__setattr__(self, "seconds", self.times_s.tolist())
        object.__setattr__(self, "people", self.connections.tolist())
        object.__setattr__(self, "rates", self.messages_per_s.tolist())


def load_profile(path: Path) -> LoadProfile:
    where = f"load profile {path}"
    profile = parse(LoadProfile, read_yaml(path, "load profile"), where)
    found = problems(profile)
    if found:
        raise SpecInvalid(found, where)
    return profile


def problems(profile: LoadProfile) -> list[str]:
    """Rules across fields, each with its path: durations, order, overlaps."""
    spec, out = profile.spec, []
    if spec.duration <= 0 or spec.duration > YEAR_S:
        out.append(
            f"spec.duration: {human(spec.duration)} must be more than 0 and at most a year (365d)"
        )
    if spec.day is not None and (spec.steps or spec.ramps):
        out.append("spec.day: give either a day curve or steps and ramps, not both")
    if spec.day is None and not spec.steps and not spec.ramps:
        out.append("spec: give steps, ramps or a day curve; the profile has no load")
    if spec.day is not None and spec.day.min_connections > spec.day.max_connections:
        out.append("spec.day.minConnections: must not exceed maxConnections")
    segments = [(f"spec.steps[{i}]", s.from_, s.to) for i, s in enumerate(spec.steps)]
    segments += [(f"spec.ramps[{i}]", r.from_, r.to) for i, r in enumerate(spec.ramps)]
    for name, start, end in segments:
        if end <= start:
            out.append(f"{name}.to: {human(end)} must be after from ({human(start)})")
        elif end > spec.duration:
            out.append(f"{name}.to: {human(end)} is past spec.duration ({human(spec.duration)})")
    for i, r in enumerate(spec.ramps):
        for field, pair in (
            ("connections", r.connections),
            ("messagesPerSecond", r.messages_per_second),
        ):
            if any(not math.isfinite(v) or v < 0 for v in pair):
                out.append(f"spec.ramps[{i}].{field}: {list(pair)} must be two numbers >= 0")
    ordered = sorted((s for s in segments if s[2] > s[1]), key=lambda s: s[1])
    for (a, a_start, a_end), (b, b_start, _) in itertools.pairwise(ordered):
        if b_start < a_end:
            out.append(
                f"{b}: overlaps {a} ({human(a_start)}-{human(a_end)}); make it start at "
                f"{human(a_end)} or later"
            )
    return out


def sample(profile: LoadProfile, tick_s: float, seed: int) -> Load:
    """The load at every tick; deterministic for `seed`."""
    spec = profile.spec
    times = np.arange(0.0, spec.duration, tick_s)
    connections = np.zeros_like(times)
    messages = np.zeros_like(times)
    if spec.day is not None:
        d = spec.day
        wave = (1 + np.cos(2 * np.pi * (times - d.peak_at) / DAY_S)) / 2
        connections = d.min_connections + (d.max_connections - d.min_connections) * wave
        messages = connections * d.messages_per_connection
    for s in spec.steps:
        inside = (times >= s.from_) & (times < s.to)
        connections[inside] = s.connections
        messages[inside] = s.messages_per_second
    for r in spec.ramps:
        inside = (times >= r.from_) & (times < r.to)
        share = (times[inside] - r.from_) / (r.to - r.from_)
        connections[inside] = r.connections[0] + share * (r.connections[1] - r.connections[0])
        messages[inside] = r.messages_per_second[0] + share * (
            r.messages_per_second[1] - r.messages_per_second[0]
        )
    if spec.noise > 0:
        minutes = (times // 60).astype(int)
        factors = np.random.default_rng(seed).normal(1.0, spec.noise, minutes[-1] + 1)
        factor = np.clip(factors, 0.0, None)[minutes]
        connections, messages = connections * factor, messages * factor
    return Load(tick_s, times, connections, messages, spec.room_size)
