"""What every scaling case of the chat shares: the image it runs and how it scales.

The EC2 and Fargate cases (ChatService) and the Kubernetes case (ChatDeployment) all
run the same container image between a minimum and a maximum number of replicas, adding
some when the average CPU passes a target; one rule and one default for each, here.
Pure.
"""

import re
from typing import NamedTuple

# The average CPU, in percent (of an instance, a task, a pod's request), every case
# scales at by default.
CPU_TARGET = 50

# A container image reference as the distribution spec writes it:
# [registry[:port]/]path[:tag][@sha256:digest], lower-case path components.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE = re.compile(
    rf"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
IMAGE_EXAMPLE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/escala:0.1.0"


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
    """Every problem of the shared fields, each starting with its field's name."""
    out = []
    if not image:
        out.append(
            f"{names.image}: no container image given; pass --image with one the replicas can "
            f"pull, e.g. {IMAGE_EXAMPLE} (build it with the repository's Dockerfile)"
        )
    elif not IMAGE.match(image):
        out.append(
            f"{names.image}: {image!r} is not a container image reference; give one the "
            f"replicas can pull, e.g. {IMAGE_EXAMPLE} (build it with the repository's Dockerfile)"
        )
    if min_size is None or min_size < 1:
        out.append(f"{names.min}: {min_size} must be at least 1")
    if max_size is None or min_size is None or max_size < min_size:
        out.append(f"{names.max}: {max_size} must be >= {names.min} ({min_size})")
    if cpu_target is None or not 1 <= cpu_target <= 100:
        out.append(f"{names.cpu_target}: {cpu_target} must be a CPU percentage from 1 to 100")
    return out
