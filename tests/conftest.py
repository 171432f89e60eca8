"""Fixtures shared by the whole suite: real servers, never mocks of them.

`aws` gives each test an empty AWS account on a moto server process, reached over HTTP
through AWS_ENDPOINT_URL: `escala sandbox` itself, so the tests meet moto with the
sandbox's documented fixes (escala.cli.sandbox_moto) and its
Ubuntu images, as a user trying escala does.
"""

import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from tests.servers import free_port, stop, wait_for_port

REGION = "eu-west-1"


def _start_sandbox(*flags: str) -> tuple[subprocess.Popen[str], int]:
    """`escala sandbox` on a free port, known to be ours once it prints its first line
    (it does after listening; a port taken meanwhile by another process makes it exit,
    and another port is tried)."""
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "escala", "sandbox", "--port", str(port), *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        if proc.stdout.readline().startswith("# AWS sandbox (moto) running"):
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep it drained
            wait_for_port(port, proc)
            return proc, port
        proc.wait(timeout=10)
    raise RuntimeError("escala sandbox did not start on any of 5 free ports")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    proc, port = _start_sandbox()
    yield f"http://127.0.0.1:{port}"
    stop(proc)  # type: ignore[arg-type]


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
