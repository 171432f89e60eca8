"""What every scaling case of the chat shares: the image it runs and how it scales.

The EC2 and Fargate cases (ChatService) and the Kubernetes case (ChatDeployment) all
run the same container image between a minimum and a maximum number of replicas, adding
some when the average CPU passes a target; one rule and one default for each, here.
Pure.
"""

from typing import NamedTuple

from escala.api.image import image_problem

# The average CPU, in percent (of an instance, a task, a pod's request), every case
# scales at by default.
CPU_TARGET = 50


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
