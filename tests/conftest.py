"""Fixtures shared by the whole suite: real servers, never mocks of them.

`aws` gives each test an empty AWS account in `escala sandbox` (moto, with escala's fixes
to it and its Ubuntu images) running as a separate process, reached over HTTP through
AWS_ENDPOINT_URL: the very emulator a user gets.
"""

import sys
import urllib.request
from collections.abc import Iterator

import pytest

from tests.servers import free_port, start, stop

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    port = free_port()
    proc = start([sys.executable, "-m", "escala", "sandbox", "--port", str(port)], port)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty AWS account for one test; returns the endpoint URL."""
    req = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(req).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_server
