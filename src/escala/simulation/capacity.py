"""The capacity model of one chat replica: what CPU and memory a load costs it, and the
CPU at which its p99 delivery latency crosses the target.

Measured by `escala load --calibrate` (escala.loadgen.calibrate) on a real replica and
written as a small YAML document with the machine and versions it was measured on; a
model measured on this kind of machine ships as `data/default-model.yaml`. CPU is in cores
of the machine it was measured on; the lab takes one vCPU to be one such core.
"""

from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import Field

from escala import __version__
from escala.errors import UsageError
from escala.simulation.documents import API_VERSION, Document, parse, read_yaml

KIND = "CapacityModel"
DEFAULT_MODEL = "default-model.yaml"
# A rung whose p99 crossed the target counts as the replica's knee only if the replica
# was this busy; a single-threaded event loop's queueing delay grows near ASSUMED_KNEE_CORES.
SERVER_BOUND_CORES = 0.5
ASSUMED_KNEE_CORES = 0.85


class Machine(Document):
    cpu: str
    cores: int = Field(ge=1)
    os: str
    python: str


class LadderPoint(Document):
    """One rung of the calibration ladder, as measured."""

    connections: int = Field(ge=0)
    sent_per_s: float = Field(ge=0)
    delivered_per_s: float = Field(ge=0)
    cpu_cores: float = Field(ge=0)
    rss_mib: float = Field(ge=0)
    p99_ms: float | None
    load_cpu_cores: float = Field(ge=0)  # the load generator's own CPU over the rung


class Measured(Document):
    date: str
    machine: Machine
    server: str
    redis: bool
    versions: dict[str, str]
    points: list[LadderPoint]


class Cpu(Document):
    """cores = base + perConnection x connections + perDelivered x delivered msgs/s
    + perMessage x messages/s the replica handles (from its clients or from Redis)."""

    base_cores: float = Field(ge=0)
    per_connection: float = Field(ge=0)
    per_delivered: float = Field(ge=0)
    per_message: float = Field(ge=0)


class Memory(Document):
    base_mib: float = Field(ge=0)
    per_connection_kib: float = Field(ge=0)


class Latency(Document):
    """The replica's p99 crosses `targetMs` at `kneeDeliveredPerS`, using `kneeCpuCores`.

    `kneeFrom: measured` when a rung crossed the target while the replica itself was
    busy (at least SERVER_BOUND_CORES); `extrapolated` when only rungs on which the
    replica was mostly idle crossed it (the load generator or a busy machine was the
    limit, not the replica): the knee is then put at ASSUMED_KNEE_CORES of CPU, and its
    rate follows from the CPU fit.
    """

    target_ms: float = Field(gt=0)
    knee_delivered_per_s: float = Field(gt=0)
    knee_cpu_cores: float = Field(gt=0, le=1.5)
    knee_from: Literal["measured", "extrapolated"]
    p99_idle_ms: float = Field(gt=0)  # the lowest p99 of any rung

    def p99_ms(self, busy: float) -> float:
        """p99 of a replica `busy` (its CPU demand over its saturation CPU), the way a
        single queue's delay grows: idle p99 / (1 - busy); past saturation, infinite."""
        return self.p99_idle_ms / (1 - busy) if busy < 1 else float("inf")


class CapacityModel(Document):
    api_version: Literal["escala.io/v1alpha1"]
    kind: Literal["CapacityModel"]
    escala_version: str
    measured: Measured
    cpu: Cpu
    memory: Memory
    latency: Latency

    def cpu_cores(self, connections: float, delivered_per_s: float, messages_per_s: float) -> float:
        """CPU one replica needs for its share of the load, in cores."""
        c = self.cpu
        return (
            c.base_cores
            + c.per_connection * connections
            + c.per_delivered * delivered_per_s
            + c.per_message * messages_per_s
        )

    def memory_mib(self, connections: float) -> float:
        return self.memory.base_mib + self.memory.per_connection_kib * connections / 1024

    def saturation_cores(self, cores_available: float) -> float:
        """The CPU demand above which a replica with `cores_available` misses the latency
        target: the measured knee, scaled to the CPU the replica may use."""
        return self.latency.knee_cpu_cores * min(cores_available, 1.0)


def load_model(path: Path | None = None) -> CapacityModel:
    """A model file, or the shipped default; refuses other escala versions and missing
    fields, each named (exit 2)."""
    if path is None:
        source = resources.files("escala.simulation") / "data" / DEFAULT_MODEL
        data, where = yaml.safe_load(source.read_text()), f"capacity model {DEFAULT_MODEL}"
    else:
        data, where = read_yaml(path, "capacity model"), f"capacity model {path}"
    if isinstance(data, dict):
        version = data.get("escalaVersion")
        if version is not None and version != __version__:
            raise UsageError(
                f"{where}: escalaVersion: measured with escala {version}, this is escala "
                f"{__version__}; measure again with `escala load --calibrate FILE`"
            )
        if data.get("kind") not in (None, KIND):
            raise UsageError(f"{where}: kind: must be {KIND}, got {data.get('kind')!r}")
    return parse(CapacityModel, data, where)


def fit(points: list[LadderPoint], target_ms: float, measured: Measured) -> CapacityModel:
    """Idle rungs give the cost of a connection and of its memory (a line through
    connections); least squares over the sending rungs, less that, gives the base and the
    per-message terms (clipped at zero: a negative cost is noise). The knee is read off
    the rate ladder at the busiest connection count."""
    points = [p for p in points if p.connections > 0]  # a rung whose clients all failed
    idle = [p for p in points if p.sent_per_s == 0] or points
    sending = [p for p in points if p.sent_per_s > 0] or points
    per_connection, _ = _line([p.connections for p in idle], [p.cpu_cores for p in idle])
    rows = np.array([[1.0, p.delivered_per_s, p.sent_per_s] for p in sending])
    cpu = np.array([p.cpu_cores - per_connection * p.connections for p in sending])
    coef = np.clip(np.linalg.lstsq(rows, cpu, rcond=None)[0], 0.0, None)
    # RSS seldom shrinks, so memory comes from the idle rungs, measured first.
    slope, intercept = _line([p.connections for p in idle], [p.rss_mib for p in idle])
    cpu_terms = Cpu(
        base_cores=float(coef[0]),
        per_connection=per_connection,
        per_delivered=float(coef[1]),
        per_message=float(coef[2]),
    )
    latency = _knee(points, target_ms, cpu_terms)
    return CapacityModel(
        api_version=API_VERSION,
        kind=KIND,
        escala_version=__version__,
        measured=measured,
        cpu=cpu_terms,
        memory=Memory(base_mib=intercept, per_connection_kib=slope * 1024),
        latency=latency,
    )


def _line(xs: list[int], ys: list[float]) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line, both at least zero."""
    if len(set(xs)) < 2:
        return 0.0, max(float(np.mean(ys)), 0.0)
    slope, intercept = np.polyfit(np.array(xs, dtype=float), np.array(ys), 1)
    return max(float(slope), 0.0), max(float(intercept), 0.0)


def _knee(points: list[LadderPoint], target_ms: float, cpu: Cpu) -> Latency:
    """Where p99 crosses `target_ms` on the busiest connection count's rate ladder,
    interpolated between the last rung under the target and the first over it."""
    busiest = max((p.connections for p in points if p.sent_per_s > 0), default=0)
    ladder = sorted(
        (p for p in points if p.connections == busiest and p.p99_ms is not None),
        key=lambda p: p.delivered_per_s,
    )
    if not ladder:
        raise UsageError("calibration: no rung delivered a message; is the replica answering?")
    idle_p99 = float(min(p.p99_ms for p in points if p.p99_ms) or 1.0)
    below: LadderPoint | None = None
    for p in ladder:
        p99 = p.p99_ms or 0.0
        if p99 > target_ms and p.cpu_cores >= SERVER_BOUND_CORES:
            if below is None:
                rate, cores = p.delivered_per_s, p.cpu_cores
            else:
                share = (target_ms - (below.p99_ms or 0.0)) / (p99 - (below.p99_ms or 0.0))
                rate = below.delivered_per_s + share * (p.delivered_per_s - below.delivered_per_s)
                cores = below.cpu_cores + share * (p.cpu_cores - below.cpu_cores)
            return Latency(
                target_ms=target_ms,
                knee_delivered_per_s=float(rate),
                knee_cpu_cores=float(min(max(cores, 1e-3), 1.5)),
                knee_from="measured",
                p99_idle_ms=idle_p99,
            )
        if p99 <= target_ms:
            below = p
    # Never the replica's doing: put the knee where its event loop would saturate.
    spare = ASSUMED_KNEE_CORES - cpu.base_cores - cpu.per_connection * busiest
    per_delivered = cpu.per_delivered + cpu.per_message / max(busiest - 1, 1)
    rate = spare / per_delivered if per_delivered > 0 else ladder[-1].delivered_per_s
    return Latency(
        target_ms=target_ms,
        knee_delivered_per_s=float(max(rate, ladder[-1].delivered_per_s)),
        knee_cpu_cores=ASSUMED_KNEE_CORES,
        knee_from="extrapolated",
        p99_idle_ms=idle_p99,
    )


def dump_model(model: CapacityModel) -> str:
    """The model as the YAML document `load_model` reads back."""
    return yaml.safe_dump(model.model_dump(mode="json", by_alias=True), sort_keys=False)
