"""Retries by AWS error code: what is worth waiting for is retried, the rest raised at
once, wrapped with what escala was doing."""

import pytest
from botocore.exceptions import ClientError

from escala.errors import CloudError
from escala.reconcile.retry import with_retries


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, "CreateSubnet")


def _failing(codes: list[str]):
    calls = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= len(codes):
            raise _error(codes[len(calls) - 1])
        return "done"

    return call, calls


@pytest.mark.parametrize(
    "code", ["Throttling", "DependencyViolation", "InvalidVpcID.NotFound", "RequestLimitExceeded"]
)
def test_transient_errors_are_retried_until_success(code):
    call, calls = _failing([code, code])
    assert with_retries(call, "creating subnet a", sleep=lambda _: None) == "done"
    assert len(calls) == 3


def test_a_real_failure_is_raised_at_once_saying_what_was_being_done():
    call, calls = _failing(["UnauthorizedOperation"])
    with pytest.raises(CloudError, match="creating subnet a: UnauthorizedOperation"):
        with_retries(call, "creating subnet a", sleep=lambda _: None)
    assert len(calls) == 1


def test_retrying_stops_at_the_deadline():
    call, _ = _failing(["DependencyViolation"] * 1000)
    with pytest.raises(CloudError, match="deleting vpc: DependencyViolation"):
        with_retries(call, "deleting vpc", deadline=0.0, sleep=lambda _: None)


@pytest.mark.parametrize("code", ["InternalError", "ServiceUnavailable", "SlowDown"])
def test_server_failures_that_outlast_botocores_retries_are_retried(code):
    call, calls = _failing([code])
    assert with_retries(call, "creating subnet a", sleep=lambda _: None) == "done"
    assert len(calls) == 2


def test_a_dropped_connection_is_retried():
    from botocore.exceptions import ConnectionClosedError

    calls = []

    def call() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionClosedError(endpoint_url="http://127.0.0.1:1")
        return "done"

    assert with_retries(call, "reading subnet a", sleep=lambda _: None) == "done"
