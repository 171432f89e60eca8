"""Retries by AWS error code, never blanket (cloud-custodian's `get_retry`).

Three families are worth waiting for: throttling, dependency violations (a resource
still in use while something that uses it goes away) and eventual consistency (a
resource just created answers `InvalidXxx.NotFound` for a few seconds). Anything else is
a real failure and is raised at once, wrapped in `CloudError` saying what escala was
doing.
"""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

from escala.errors import CloudError

T = TypeVar("T")

THROTTLING = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
# ECS refuses DeleteCluster while a deleted service drains and its tasks stop; EC2
# refuses to release an Elastic IP while the NAT gateway that used it is still deleting.
DEPENDENCY = frozenset(
    {
        "DependencyViolation",
        "InvalidIPAddress.InUse",
        "ResourceInUse",
        "ResourceInUseFault",
        "ClusterContainsServicesException",
        "ClusterContainsTasksException",
    }
)
DEFAULT_DEADLINE = 300.0


def error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def is_not_found(e: ClientError) -> bool:
    """`InvalidVpcID.NotFound`, `InvalidLaunchTemplateName.NotFoundException`,
    `NoSuchEntity`, `LoadBalancerNotFound`... all mean gone."""
    code = error_code(e)
    return "NotFound" in code or code == "NoSuchEntity"


def throttled(e: ClientError) -> bool:
    return error_code(e) in THROTTLING


def retryable(e: ClientError) -> bool:
    code = error_code(e)
    return code in THROTTLING or code in DEPENDENCY or is_not_found(e)


def with_retries(
    fn: Callable[[], T],
    doing: str,
    *,
    deadline: float = DEFAULT_DEADLINE,
    should_retry: Callable[[ClientError], bool] = retryable,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn` until it succeeds, a non-retryable error occurs or `deadline` seconds pass.

    Backoff is exponential with full jitter, capped at 10 seconds. The final error is
    raised as `CloudError("<doing>: <code>: <message>")`.
    """
    start = time.monotonic()
    attempt = 0
    while True:
        try:
            return fn()
        except ClientError as e:
            elapsed = time.monotonic() - start
            if not should_retry(e) or elapsed >= deadline:
                message = e.response.get("Error", {}).get("Message", str(e))
                raise CloudError(f"{doing}: {error_code(e)}: {message}") from e
            delay = min(10.0, 0.2 * 2**attempt) * random.random()
            sleep(min(delay, max(0.0, deadline - elapsed)))
            attempt += 1
