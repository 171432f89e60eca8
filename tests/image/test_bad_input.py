"""`escala image build` / `push` given what cannot work: each says what is wrong and
how to fix it, with the engine's own last lines when the engine failed, and nothing is
recorded in the state store. And ECR's token reaches the engine on standard input only."""

import base64
import json
import os
import shutil
from pathlib import Path

import pytest

from escala.cloud.aws.ecr_login import ecr_login
from escala.cloud.aws.session import ClientFactory
from escala.image.engine import Engine
from escala.ops.image import Built
from escala.state import StateStore, open_store
from tests.bootstrap.conftest import CLUSTER
from tests.cli.run import escala
from tests.image.conftest import ROOT
from tests.servers import free_port, start, stop

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    from tests.reconcile.specs import write_cluster

    s = open_store(f"file://{tmp_path}/state")
    write_cluster(s)
    return s


def push(capsys, store: StateStore, *args: str):
    return escala(capsys, "image", "push", "--name", CLUSTER, "--state", store.url,
                  "--context", str(ROOT), *args)  # fmt: skip


def test_no_engine_names_what_to_install(capsys, tmp_path, monkeypatch, store) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", str(bare))
    for args in (["image", "build", "--context", str(ROOT)],
                 ["image", "push", "--name", CLUSTER, "--state", store.url]):  # fmt: skip
        result = escala(capsys, *args)
        assert result.code == 2, result.err
        assert "no container engine found: none of podman, docker, buildah is on PATH" in (
            result.err
        )
        assert "apt-get install podman" in result.err
    asked = escala(capsys, "image", "build", "--context", str(ROOT), "--engine", "buildah")
    assert asked.code == 2 and "--engine buildah: buildah is not installed" in asked.err


def test_a_failing_build_shows_the_engines_last_lines(capsys, tmp_path, base_image: str) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        "RUN echo 'step that breaks: no such package' && exit 3\n"
    )
    result = escala(capsys, "image", "build", "--context", str(context),
                    "--base-image", base_image, "--engine", "podman")  # fmt: skip
    assert result.code == 1
    assert "building the image failed (podman exited" in result.err
    assert "step that breaks: no such package" in result.err
    assert "Traceback" not in result.err


def test_bad_references_and_targets_are_refused(capsys, podman: Engine, store) -> None:
    cases = {
        ("--image", "escala"): "--image: 'escala' has neither a tag nor a digest",
        ("--image", "Escala:1"): "--image: 'Escala:1' is not a container image reference",
        ("--image", "escala:never-built"): "podman has no image escala:never-built; build it",
        ("--registry", "ftp://127.0.0.1:5000"): "--registry: 'ftp://127.0.0.1:5000'",
        ("--chatservice", "chat"): "give --name (a cluster) or --chatservice, not both",
    }
    for args, says in cases.items():
        result = push(capsys, store, *args)
        assert result.code == 2, (args, result.err)
        assert says in result.err, (args, result.err)
    nowhere = escala(capsys, "image", "push")
    assert nowhere.code == 2 and "nowhere to push" in nowhere.err
    built = escala(capsys, "image", "build", "--base-image", "Not/An:Image:", "--context",
                   str(ROOT))  # fmt: skip
    assert built.code == 2 and "--base-image:" in built.err
    assert store.get_image("Cluster", CLUSTER) is None


@pytest.fixture
def read_only_registry(podman: Engine, tmp_path: Path):
    """A registry in maintenance mode: it answers, and refuses every upload."""
    port = free_port()
    config = tmp_path / "readonly.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
        "  maintenance:\n    readonly:\n      enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = start(["docker-registry", "serve", str(config)], port)
    yield f"127.0.0.1:{port}"
    stop(proc)


def test_a_registry_that_refuses_records_nothing(
    capsys, podman: Engine, chat_image: Built, store, read_only_registry: str
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    tag = chat_image.tags[1].split(":", 1)[1]
    for registry in (read_only_registry, closed):
        result = push(capsys, store, "--registry", f"http://{registry}")
        assert result.code == 1, result.err
        assert f"pushing {registry}/escala/{CLUSTER}:" in result.err
        assert "failed (podman exited" in result.err
        assert store.get_image("Cluster", CLUSTER) is None
        assert not podman.has_image(f"{registry}/escala/{CLUSTER}:{tag}")  # nothing left


def test_the_ecr_token_reaches_the_engine_on_standard_input_only(
    aws, podman: Engine, registry: str, tmp_path: Path
) -> None:
    """ECR's real token (moto's), given to a real podman through a wrapper that records
    its argv and standard input; the login lives in the session's own auth file only."""
    login = ecr_login(
        ClientFactory(region="eu-west-1"), "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    )
    assert login.username == "AWS" and login.password
    assert login.password not in repr(login)
    wrapper = tmp_path / "podman"
    wrapper.write_text(
        "#!/bin/bash\n"
        f'printf "%s\\n" "$*" >> {tmp_path}/argv\n'
        f'if [ "$1" = login ]; then\n'
        f'  tee -a {tmp_path}/stdin | {podman.binary} "$@"; exit "${{PIPESTATUS[1]}}"\n'
        "fi\n"
        f'exec {podman.binary} "$@"\n'
    )
    wrapper.chmod(0o755)
    engine = Engine("podman", str(wrapper))
    with engine.session() as env:
        engine.login(registry, login.username, login.password, env, insecure=True)
        auths = json.loads(Path(env["REGISTRY_AUTH_FILE"]).read_text())["auths"]
        saved = base64.b64decode(auths[registry]["auth"]).decode()
        assert saved == f"{login.username}:{login.password}"
        auth_dir = Path(env["DOCKER_CONFIG"])
    assert not auth_dir.exists()  # the login went with the session
    assert login.password not in (tmp_path / "argv").read_text()
    assert login.password in (tmp_path / "stdin").read_text()
    assert os.environ.get("REGISTRY_AUTH_FILE") is None


def test_a_docker_cli_without_its_daemon_is_no_engine(capsys, tmp_path, monkeypatch) -> None:
    """Docker's client alone (this machine has one) cannot build: said, with the next
    engine used when there is one."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine")
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "docker").symlink_to(docker)
    monkeypatch.setenv("PATH", str(bare))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    result = escala(capsys, "image", "build", "--context", str(ROOT))
    assert result.code == 2
    assert "docker is installed but its daemon does not answer (is it running?)" in result.err
