"""Retries by AWS error code, never blanket (cloud-custodian's `get_retry`).

Four families are worth waiting for: throttling, dependency violations (a resource
still in use while something that uses it goes away), eventual consistency (a resource
just created answers `InvalidXxx.NotFound` for a few seconds) and transient failures
(5xx answers, dropped connections) that outlast botocore's own retries. Anything else is
a real failure and is raised at once, wrapped in `CloudError` saying what escala was
doing.

botocore retries throttling, 5xx and connection errors itself (standard mode, see
`escala.cloud.aws.session`); what reaches this module has already failed there several
times, or was refused by botocore's retry quota once many calls had failed
(benchmarks/faults.py, docs/reconcile.md).
"""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

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
# 5xx answers: the request may or may not have been carried out (S3 says so of
# InternalError: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorBestPractices.html)
TRANSIENT = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
# A create or attach whose answer was lost, sent again by botocore, meets its own work:
# EntityAlreadyExists (IAM), AlreadyExists (Auto Scaling), ResourceAlreadyExistsException
# (CloudWatch Logs), InvalidGroup.Duplicate (EC2), DuplicateLoadBalancerName (ELB),
# Resource.AlreadyAssociated (an internet gateway attached)...
# InvalidSubnet.Conflict (the subnet's own CIDR), LimitExceeded (a second role for an
# instance profile: IAM allows one).
ALREADY_DONE = ("AlreadyExists", "Duplicate", "AlreadyAssociated", "AlreadyOwnedByYou")
ALREADY_DONE_CODES = frozenset({"InvalidSubnet.Conflict", "LimitExceeded"})
DEFAULT_DEADLINE = 300.0
# Dropped connections, timeouts: botocore gave up sending, the call may have happened.
CONNECTION_ERRORS = (BotoConnectionError, HTTPClientError)


def error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def is_not_found(e: ClientError) -> bool:
    """`InvalidVpcID.NotFound`, `InvalidLaunchTemplateName.NotFoundException`,
    `NoSuchEntity`, `LoadBalancerNotFound`... all mean gone."""
    code = error_code(e)
    return "NotFound" in code or code == "NoSuchEntity"


def throttled(e: ClientError) -> bool:
    """Worth asking again for a read: throttled, or a transient server failure."""
    return error_code(e) in THROTTLING or transient(e)


def transient(e: ClientError) -> bool:
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(e) in TRANSIENT or int(status or 0) >= 500


def already_exists(e: ClientError) -> bool:
    code = error_code(e)
    return code in ALREADY_DONE_CODES or any(word in code for word in ALREADY_DONE)


def retryable(e: ClientError) -> bool:
    code = error_code(e)
    return throttled(e) or code in DEPENDENCY or is_not_found(e)


def with_retries(
    fn: Callable[[], T],
    doing: str,
    *,
    deadline: float = DEFAULT_DEADLINE,
    should_retry: Callable[[ClientError], bool] = retryable,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn` until it succeeds, a non-retryable error occurs or `deadline` seconds pass.

    A dropped connection (botocore's `ConnectionError`, `HTTPClientError`) is always
    retried. Backoff is exponential with full jitter, capped at 10 seconds. The final
    error is raised as `CloudError("<doing>: <code>: <message>")`.
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
        except CONNECTION_ERRORS as e:
            elapsed = time.monotonic() - start
            if elapsed >= deadline:
                raise CloudError(f"{doing}: {e}") from e
        delay = min(10.0, 0.2 * 2**attempt) * random.random()
        sleep(min(delay, max(0.0, deadline - elapsed)))
        attempt += 1
