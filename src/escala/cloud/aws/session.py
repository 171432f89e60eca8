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


def call(doing: str, fn: Any, **kwargs: Any) -> Any:
    """One AWS call outside the engine; a failure is a CloudError saying what escala did."""
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as e:
        raise CloudError(f"{doing}: {e}") from e
