"""The chat container as the manifests describe it, run for real on this machine.

No image can be built here and no kubelet runs, so this does what a kubelet would with
the Dockerfile's ENTRYPOINT and the chat Deployment's args and env: start the process
(with a real redis-server started with the Redis Deployment's args), call the readiness
and liveness probes the manifest names, and send SIGTERM as a pod's termination does.
Only what cannot exist here is swapped: loopback addresses and free ports for the
Service names, a temporary directory for the emptyDir volume.
"""

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from escala.api.chat_deployment import ChatDeployment
from escala.kube.manifests import chat_app, grace_period
from tests.kube.test_dockerfile import instructions
from tests.reconcile.specs import NAME
from tests.servers import free_port, start, stop, wait_for_port

OPTIONS = ChatDeployment.for_cluster(NAME, "1.31.2", "eu-west-1")


def container(name: str) -> dict:
    [deployment] = [o for o in chat_app(OPTIONS) if o["kind"] == "Deployment" and
                    o["metadata"]["name"] == name]  # fmt: skip
    [found] = deployment["spec"]["template"]["spec"]["containers"]
    return found


def replaced(args: list[str], values: dict[str, str]) -> list[str]:
    """`args` with the value after each flag in `values` swapped."""
    out = list(args)
    for flag, value in values.items():
        out[out.index(flag) + 1] = value
    return out


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    args = [*container("redis")["args"], "--port", str(port), "--bind", "127.0.0.1"]
    proc = start(["redis-server", *args, "--dir", str(tmp_path)], port)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(proc)


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return int(response.status)


def test_the_chat_container_starts_answers_its_probes_and_stops_on_sigterm(
    tmp_path: Path, redis_url: str
) -> None:
    spec = container("chat")
    entrypoint = json.loads(instructions()["ENTRYPOINT"][0])
    assert entrypoint[0] == "escala"
    port = free_port()
    args = replaced(
        spec["args"], {"--host": "127.0.0.1", "--port": str(port), "--redis": redis_url}
    )
    env = {e["name"]: e["value"] for e in spec["env"]}
    env["ESCALA_CHAT_DATA_DIR"] = str(tmp_path / "data")  # the emptyDir volume
    argv = [sys.executable, "-m", "escala", *entrypoint[1:], *args]
    log = tmp_path / "chat.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env={"PATH": "/usr/bin:/bin", **env}, stdout=out, stderr=out)
    try:
        wait_for_port(port, proc)
        base = f"http://127.0.0.1:{port}"
        assert get(base + spec["readinessProbe"]["httpGet"]["path"]) == 200
        assert get(base + spec["livenessProbe"]["httpGet"]["path"]) == 200

        proc.send_signal(signal.SIGTERM)  # after preStop, as the kubelet does
        code = proc.wait(timeout=grace_period(OPTIONS))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, log.read_text()  # drained and flushed, not killed
    assert (tmp_path / "data" / "chat.sqlite3").exists()  # history went to the volume
