"""The chat's image for real: built with podman on a Debian-built base, run with its
port on loopback, chatted through with a real Socket.IO client, pushed to a real
registry with `escala image push` and pulled back by the digest it recorded."""

import asyncio
import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import socketio

from escala import __version__
from escala.image.engine import Engine
from escala.kube.manifests import CHAT_UID
from escala.ops.image import Built, version_tag
from escala.state import StateStore, open_store
from tests.bootstrap.conftest import CLUSTER
from tests.cli.run import escala
from tests.image.conftest import ROOT
from tests.servers import free_port

pytestmark = pytest.mark.timeout(900)


def inspect(podman: Engine, reference: str) -> dict:
    out = subprocess.run([podman.binary, "image", "inspect", reference], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return json.loads(out)[0]


@pytest.fixture
def running(podman: Engine, chat_image: Built) -> Iterator[tuple[str, str]]:
    """The image running detached, its port 3000 on 127.0.0.1: (container, URL)."""
    port = free_port()
    name = f"escala-test-{port}"
    subprocess.run(
        [podman.binary, "run", "--detach", "--name", name, "--publish",
         f"127.0.0.1:{port}:3000", chat_image.tags[-1]],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield name, f"http://127.0.0.1:{port}"
    finally:
        subprocess.run([podman.binary, "rm", "--force", "--time", "5", name],
                       capture_output=True, check=False)  # fmt: skip


def wait_healthy(url: str, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                return answer.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_build_is_tagged_with_the_version_and_the_commit(chat_image: Built) -> None:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert chat_image.tags[0] == f"escala:{__version__}"
    assert chat_image.tags[1] == f"escala:{version_tag(ROOT)}"
    assert chat_image.tags[1].startswith(f"escala:{__version__}-{commit}")


def test_the_image_runs_as_its_user_with_the_healthcheck(podman: Engine, chat_image: Built) -> None:
    image = inspect(podman, chat_image.tags[0])
    assert image["Config"]["User"] == f"{CHAT_UID}:{CHAT_UID}"
    assert image["Config"]["Entrypoint"] == ["escala", "chat", "serve"]
    # (kept only in Docker's image format, which `escala image build` asks podman for)
    assert "/healthz" in " ".join(image["Healthcheck"]["Test"])


def test_the_image_installs_within_constraints_txt(podman: Engine, chat_image: Built) -> None:
    """The image holds the versions the suite last passed with, as `make` installs them,
    not whatever was released since the constraints were written."""
    frozen = subprocess.run(
        [podman.binary, "run", "--rm", "--entrypoint", "pip", chat_image.tags[0],
         "freeze", "--exclude-editable", "--all"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pins = _versions((ROOT / "constraints.txt").read_text())
    installed = _versions(frozen)
    installed.pop("escala")
    # pip and setuptools come with the base image's venv, not from the wheels
    assert set(installed) - set(pins) <= {"pip", "setuptools", "wheel"}
    drifted = {name: (v, pins[name]) for name, v in installed.items() if pins.get(name, v) != v}
    assert drifted == {}


def _versions(freeze: str) -> dict[str, str]:
    """`name==version` lines, names normalised as pip compares them (PEP 503)."""
    pairs = (line.split("==") for line in freeze.splitlines() if "==" in line)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pairs}


async def test_the_container_serves_the_chat_on_its_published_port(
    podman: Engine, running: tuple[str, str]
) -> None:
    name, url = running
    assert (await asyncio.to_thread(wait_healthy, url)).strip() == b"ok"
    whoami = subprocess.run([podman.binary, "exec", name, "id", "-u"], capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    assert whoami.strip() == str(CHAT_UID)
    health = subprocess.run([podman.binary, "healthcheck", "run", name], capture_output=True,
                            text=True, check=False)  # fmt: skip
    assert health.returncode == 0, health.stdout + health.stderr

    ana, bo = socketio.AsyncClient(), socketio.AsyncClient()
    received: asyncio.Queue = asyncio.Queue()
    ana.on("new message", received.put_nowait)
    try:
        await ana.connect(url, transports=["websocket"])
        await bo.connect(url, transports=["websocket"])
        assert (await ana.call("add user", "ana", timeout=10))["numUsers"] == 1
        assert (await bo.call("add user", "bo", timeout=10))["numUsers"] == 2
        await bo.call("new message", "hola desde el contenedor", timeout=10)
        message = await asyncio.wait_for(received.get(), 10)
        assert (message["username"], message["message"]) == ("bo", "hola desde el contenedor")
    finally:
        await ana.disconnect()
        await bo.disconnect()

    stopped = subprocess.run([podman.binary, "stop", "--time", "20", name],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert stopped.returncode == 0, stopped.stderr
    state = subprocess.run([podman.binary, "inspect", "--format", "{{.State.ExitCode}}", name],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert state.strip() == "0"  # the chat drained and exited on SIGTERM, not killed


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    from tests.reconcile.specs import write_cluster

    s = open_store(f"file://{tmp_path}/state")
    write_cluster(s)
    return s


def test_push_records_the_digest_and_the_registry_serves_it(
    capsys, podman: Engine, chat_image: Built, registry: str, store: StateStore
) -> None:
    result = escala(capsys, "image", "push", "--name", CLUSTER, "--registry",
                    f"http://{registry}", "--state", store.url, "--context", str(ROOT),
                    "-o", "json")  # fmt: skip
    assert result.code == 0, result.err
    pushed = json.loads(result.out)
    assert pushed["repository"] == f"{registry}/escala/{CLUSTER}"
    assert pushed["tag"] == chat_image.tags[1].split(":", 1)[1]
    assert pushed["image"] == f"{pushed['repository']}@{pushed['digest']}"
    record = store.get_image("Cluster", CLUSTER)
    assert record is not None and record.spec.reference == pushed["image"]

    # The registry holds that manifest under that digest, and it pulls back as the image.
    request = urllib.request.Request(
        f"http://{registry}/v2/escala/{CLUSTER}/manifests/{pushed['digest']}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        method="HEAD",
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.headers["Docker-Content-Digest"] == pushed["digest"]
    assert not podman.has_image(f"{pushed['repository']}:{pushed['tag']}")  # push's own name
    podman.untag(pushed["image"])
    podman.run(["pull", "--tls-verify=false", pushed["image"]], "pulling the pushed image")
    assert inspect(podman, pushed["image"])["Id"] == inspect(podman, chat_image.tags[1])["Id"]

    # deploy chat then defaults to it, by digest.
    manifests = escala(capsys, "deploy", "chat", "--name", CLUSTER, "--state", store.url,
                       "-o", "json")  # fmt: skip
    assert manifests.code == 0, manifests.err
    deployment = next(o for o in json.loads(manifests.out) if o["kind"] == "Deployment"
                      and o["metadata"]["name"] == "chat")  # fmt: skip
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == pushed["image"]
    podman.untag(pushed["image"])
