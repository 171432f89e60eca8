"""What every scaling case of the chat shares: the image it runs and how it scales.

The EC2 and Fargate cases (ChatService) and the Kubernetes case (ChatDeployment) all
run the same container image between a minimum and a maximum number of replicas, adding
some when the average CPU passes a target; one rule and one default for each, here.
Pure.

The chat is one single-threaded process, so a replica can use at most one core, and
`cpuTarget` is a percentage of what it can use: min(1, N) of the N vCPUs of an instance
or task (a pod's request in Kubernetes, which is under one core). AWS's CPU metrics
(ASGAverageCPUUtilization, ECSServiceAverageCPUUtilization) are percentages of all N
vCPUs, so the policy tracks cpuTarget x min(1, N) / N: 25 % on a 2-vCPU t3.small for a
50 % target, 50 % on a half-vCPU task, where the chat's whole share is the task's.
"""

import dataclasses
from typing import NamedTuple

from escala.api.image import image_problem

# The average CPU every case scales at by default, in percent of what one replica's
# chat process can use (one core at most; see the module's docstring).
CPU_TARGET = 50


@dataclasses.dataclass(frozen=True)
class ReplicaCpu:
    """The CPU one replica runs on: `vcpus` of `where` (an instance type, a task size),
    with one chat process on it."""

    where: str
    vcpus: float

    @property
    def chat_vcpus(self) -> float:
        """What the one single-threaded chat process can use of it."""
        return min(1.0, self.vcpus)

    def metric_target(self, cpu_target: float) -> float:
        """The target of the platform's CPU metric (percent of all `vcpus`) at which the
        chat uses `cpu_target` percent of what it can: cpu_target x min(1, N) / N."""
        return round(cpu_target * self.chat_vcpus / self.vcpus, 2)

    def explain(self, cpu_target: float, metric: str) -> str:
        """What users read in plans and `describe`: `cpuTarget 50 % of the chat's core ->
        ASGAverageCPUUtilization 25 % on t3.small (2 vCPUs)`."""
        share = "core" if self.vcpus >= 1 else f"{self.vcpus:g} vCPU"
        vcpus = f"{self.vcpus:g} vCPU" + ("s" if self.vcpus > 1 else "")
        return (
            f"cpuTarget {cpu_target:g} % of the chat's {share} -> {metric} "
            f"{self.metric_target(cpu_target):g} % on {self.where} ({vcpus})"
        )


def fargate_cpu(cpu_units: int) -> ReplicaCpu:
    """A Fargate task of `cpu_units` (1024 = one vCPU)."""
    return ReplicaCpu(f"a {cpu_units}-unit task", cpu_units / 1024)


class ScalingFields(NamedTuple):
    """How a kind names the shared fields in its messages: field paths or flags."""

    image: str
    min: str
    max: str
    cpu_target: str


def scaling_problems(
    names: ScalingFields,
    image: str | None,
    min_size: int | None,
    max_size: int | None,
    cpu_target: float | None,
) -> list[str]:
    """Every problem of the shared fields, each starting with its field's name. No image
    (None) is no problem: the caller takes the one `escala image push` recorded."""
    out = []
    problem = image_problem(image) if image is not None else None
    if problem:
        out.append(f"{names.image}: {problem} (`escala image build` and `image push` make one)")
    if min_size is None or min_size < 1:
        out.append(f"{names.min}: {min_size} must be at least 1")
    if max_size is None or min_size is None or max_size < min_size:
        out.append(f"{names.max}: {max_size} must be >= {names.min} ({min_size})")
    if cpu_target is None or not 1 <= cpu_target <= 100:
        out.append(f"{names.cpu_target}: {cpu_target} must be a CPU percentage from 1 to 100")
    return out
