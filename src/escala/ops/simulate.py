"""`escala simulate`: which cases to run (escala's defaults or a stored spec, with the
user's flags over them), and running each through the profile with the capacity model."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from escala.api.chat_service_spec import complete
from escala.errors import UsageError
from escala.simulation.capacity import CapacityModel, load_model
from escala.simulation.cases import (
    Case,
    default_case,
    from_chat_service,
    from_cluster,
    with_flags,
)
from escala.simulation.profile import LoadProfile, load_profile, sample
from escala.simulation.simulator import TICK_S, Run, simulate
from escala.state import StateStore


@dataclass(frozen=True)
class SimulateOptions:
    profile: Path
    cases: tuple[str, ...]  # "ec2", "fargate@60", "chatservice/web", "cluster/x.k8s.local@40"
    model: Path | None = None
    target: float | None = None
    min_size: int | None = None
    max_size: int | None = None
    seed: int = 0


@dataclass
class Simulation:
    profile: LoadProfile
    model: CapacityModel
    runs: list[Run]


def run_simulation(options: SimulateOptions, store: Callable[[], StateStore]) -> Simulation:
    """Read everything first (every bad input refused before anything runs), then run."""
    profile = load_profile(options.profile)
    model = load_model(options.model)
    cases = [resolve(entry, options, store) for entry in options.cases]
    load = sample(profile, TICK_S, options.seed)
    return Simulation(profile, model, [simulate(c, load, model, options.seed) for c in cases])


def resolve(entry: str, options: SimulateOptions, store: Callable[[], StateStore]) -> Case:
    """One `--case`/`--compare` entry, `KIND[@TARGET]`, to a case with its parameters."""
    kind, _, target_text = entry.strip().partition("@")
    target = options.target
    if target_text:
        try:
            target = float(target_text)
        except ValueError:
            raise UsageError(
                f"--compare {entry!r}: {target_text!r} after @ is not a CPU target percentage"
            ) from None
    if kind.startswith("chatservice/"):
        case = from_chat_service(complete(store().get_chat_service(kind.split("/", 1)[1])))
    elif kind.startswith("cluster/"):
        name = kind.split("/", 1)[1]
        state = store()
        case = from_cluster(
            state.get_cluster(name, completed=True),
            state.list_instance_groups(name),
            state.get_chat_deployment(name),
        )
    else:
        case = default_case(kind)
    return with_flags(case, target=target, min_size=options.min_size, max_size=options.max_size)
