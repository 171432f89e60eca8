"""The small price table the lab charges from (data/prices.yaml, dated), and the
machines it knows: a price, vCPUs and memory per instance type."""

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from escala.errors import UsageError


@dataclass(frozen=True)
class Machine:
    name: str
    hour: float
    vcpus: int
    memory_gib: float


@dataclass(frozen=True)
class Prices:
    date: str
    region: str
    fargate_vcpu_hour: float
    fargate_gb_hour: float
    machines: dict[str, Machine]

    def machine(self, name: str, field: str) -> Machine:
        """The machine `name`; unknown -> UsageError naming `field` and the known ones."""
        try:
            return self.machines[name]
        except KeyError:
            raise UsageError(
                f"{field}: {name!r} is not in the lab's price table; use one of "
                f"{', '.join(sorted(self.machines))}"
            ) from None

    def fargate_task_hour(self, cpu_units: int, memory_mib: int) -> float:
        return cpu_units / 1024 * self.fargate_vcpu_hour + memory_mib / 1024 * self.fargate_gb_hour


@cache
def prices() -> Prices:
    raw = yaml.safe_load(
        (resources.files("escala.simulation") / "data" / "prices.yaml").read_text()
    )
    return Prices(
        date=str(raw["date"]),
        region=raw["region"],
        fargate_vcpu_hour=raw["fargate"]["vcpuHour"],
        fargate_gb_hour=raw["fargate"]["gbHour"],
        machines={
            name: Machine(name, m["hour"], m["vcpus"], m["memoryGib"])
            for name, m in raw["machines"].items()
        },
    )
