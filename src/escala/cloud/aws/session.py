"""One place that makes boto3 clients, injected everywhere instead of created at import.

Credentials and endpoints come the ecosystem's way: the standard credential chain,
`AWS_PROFILE`, `AWS_DEFAULT_REGION`, and `AWS_ENDPOINT_URL` (honoured by botocore
itself) to point every call at a local emulator such as `escala sandbox`.
"""

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from escala.errors import CloudError, UsageError
from escala.reconcile.retry import error_code, is_not_found

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 8})


class ClientFactory:
    """Makes (and caches) boto3 clients for one region."""

    def __init__(self, region: str | None = None, profile: str | None = None) -> None:
        self._session = boto3.Session(profile_name=profile, region_name=region)
        if not self._session.region_name:
            raise UsageError(
                "no AWS region: set AWS_DEFAULT_REGION (e.g. export AWS_DEFAULT_REGION="
                "eu-west-1) or pass --region"
            )
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str:
        return str(self._session.region_name)

    @property
    def endpoint_url(self) -> str | None:
        return os.environ.get("AWS_ENDPOINT_URL")

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, config=_RETRIES)
        return self._clients[service]


def unless_gone(fn: Any, *done_codes: str, **kwargs: Any) -> None:
    """One step of a delete (detach, remove, revoke) whose target may be gone already:
    a first try whose answer was lost, sent again by botocore, meets its own result
    (`NoSuchEntity`, `...NotFound`, or one of `done_codes` such as Gateway.NotAttached).
    That is what the step wanted; raising it would make the delete loop take the whole
    resource for gone and leave it behind."""
    try:
        fn(**kwargs)
    except ClientError as e:
        if not (is_not_found(e) or error_code(e) in done_codes):
            raise


def call(doing: str, fn: Any, **kwargs: Any) -> Any:
    """One AWS call outside the engine; a failure is a CloudError saying what escala did."""
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as e:
        raise CloudError(f"{doing}: {e}") from e
