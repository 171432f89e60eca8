"""`escala chat serve` refuses bad flags with exit 2, naming the flag, before it starts; and
the command lines the deployments run are ones it accepts."""

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from escala.api.chat_deployment import ChatDeployment, validate_chat_deployment
from escala.api.chat_service_spec import ChatService
from escala.cli import chat as chat_cli
from escala.cli.main import main
from escala.cloud.aws.task_definition import TaskDefinition
from escala.errors import SpecInvalid
from escala.kube.manifests import chat_deployment
from escala.model.chat_service import build_chat_service
from escala.model.chat_service.fargate import environment
from escala.model.chat_service.parameters import parameter_env
from escala.model.chat_service.user_data import render_chat_user_data
from escala.ops.chat_service_lifecycle import ChatServiceOptions, chat_service_from_options
from escala.state import open_store
from tests.cli.run import escala
from tests.model.chat_service.specs import AMI, EC2_FLAGS, FARGATE_FLAGS, IMAGE, T3_SMALL

DOCKERFILE = str(Path(__file__).parents[2] / "Dockerfile")


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    """Run `chat serve` with `flags`; it must exit 2 having created nothing. Its output."""
    data = tmp_path / "data"
    with pytest.raises(SystemExit) as exit_:
        main(["chat", "serve", "--port", "1", "--data-dir", str(data), *flags])
    assert exit_.value.code == 2
    assert not data.exists()
    out = capsys.readouterr()
    return out.err + out.out


@pytest.mark.parametrize(
    "flag, url",
    [
        ("--database", "postgresql://ana:s3cret@127.0.0.1:notaport/chat"),
        ("--database", "postgresql://ana:s3cret@[::1/chat"),
        ("--redis", "redis://:s3cret@127.0.0.1:99999"),
    ],
)
def test_a_malformed_store_url_names_the_flag_not_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, url: str
) -> None:
    said = refused(tmp_path, capsys, flag, url)
    assert flag in said
    assert "s3cret" not in said


@pytest.mark.parametrize("flag", ["--rate", "--presence-ttl", "--drain-timeout", "--ping-interval"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_number_flag_that_is_not_finite_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    assert flag in refused(tmp_path, capsys, flag, value)


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--replay-limit", "0"),
        ("--event-rate", "0"),
        ("--ip-rate", "-1"),
        ("--retain-days", "-1"),
        ("--retain-messages", "-5"),
    ],
)
def test_a_limit_that_cannot_work_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    assert flag in refused(tmp_path, capsys, flag, value)


def test_an_unknown_log_level_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "--log-level" in refused(tmp_path, capsys, "--log-level", "loud")


def _served(monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]) -> object:
    """The checked ServeOptions `chat serve` would run with for these args and variables
    (only these: a chat variable an earlier call set, or the test's own, is gone)."""
    seen: list[object] = []
    monkeypatch.setattr(chat_cli, "run_serve", seen.append)
    for name in [n for n in os.environ if n.startswith("ESCALA_CHAT_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        main(["chat", "serve", *args])
    assert exit_.value.code == 0
    return seen[0]


def test_every_deployment_runs_the_one_server_with_flags_it_knows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Dockerfile's command line (the EC2 user-data and the Fargate task run that image
    with their own arguments and variables) and the Kubernetes Deployment's: each is one
    `chat serve` accepts, with JSON logs where a collector reads them."""
    parsed = DockerfileParser(str(Path(__file__).parents[2] / "Dockerfile"))
    instructions = {i["instruction"]: i["value"] for i in parsed.structure}
    entrypoint, cmd = json.loads(instructions["ENTRYPOINT"]), json.loads(instructions["CMD"])
    assert entrypoint == ["escala", "chat", "serve"]
    image = _served(monkeypatch, cmd, {})
    assert (image.host, image.port) == ("0.0.0.0", 3000)  # type: ignore[attr-defined]

    fargate = _served(monkeypatch, cmd, environment("chat"))
    assert fargate.log_format == "json"  # type: ignore[attr-defined]

    container = chat_deployment(ChatDeployment.for_cluster("c", "1.31.2", "eu-west-1"))["spec"][
        "template"
    ]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    kube = _served(monkeypatch, container["args"], env)
    assert kube.log_format == "json" and kube.redis  # type: ignore[attr-defined]


KEYS = "k" * 32 + " " + "p" * 32  # what the auth secret's SSM parameter / Secret holds
ORIGINS = ["https://chat.example.com", "http://localhost:8080"]


def _auth_service(platform: str) -> ChatService:
    return chat_service_from_options(
        ChatServiceOptions(
            name="chat", platform=platform, zones=["eu-west-1a", "eu-west-1b"],  # type: ignore[arg-type]
            image=IMAGE, ami=AMI if platform == "ec2" else None,
            redis_parameter="/escala/chat/redis",
            auth_secret_parameter="/escala/chat/auth", allow_origin=ORIGINS,
        )
    )  # fmt: skip


def _checked(options: object) -> None:
    """What the replica would run with: the origins and both keys, from the deployment."""
    assert options.allow_origin == tuple(ORIGINS)  # type: ignore[attr-defined]
    assert options.auth_keys() == (b"k" * 32, b"p" * 32)  # type: ignore[attr-defined]


def _docker_run(service: ChatService) -> tuple[list[str], dict[str, str]]:
    """What an EC2 instance runs: `chat serve`'s arguments (after the image) and the
    variables `docker run --env` gives it."""
    files = {f["path"]: f["content"] for f in _user_data(service)["write_files"]}
    unit = files["/etc/systemd/system/escala-chat.service"].replace("\\\n", " ")
    run = shlex.split(unit.split("ExecStart=")[1])
    run = run[: run.index("ExecStop=/usr/bin/docker")]
    env = dict(run[i + 1].split("=", 1) for i, word in enumerate(run) if word == "--env")
    return run[run.index(str(service.spec.image)) + 1 :], env


def _user_data(service: ChatService) -> dict[str, Any]:
    return yaml.safe_load(render_chat_user_data(service))


def _task_environment(service: ChatService) -> dict[str, str]:
    """The plain variables of the Fargate task definition the service is built with."""
    tasks = build_chat_service(service, T3_SMALL).values()
    (definition,) = [t for t in tasks if isinstance(t, TaskDefinition)]
    return definition.environment


def _pod(chat: ChatDeployment) -> tuple[list[str], dict[str, str], dict[str, object]]:
    """The chat container's arguments, plain variables and Secret references."""
    container = chat_deployment(chat)["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    return container["args"], env, refs


def _image_cmd() -> list[str]:
    parsed = DockerfileParser(DOCKERFILE)
    return json.loads({i["instruction"]: i["value"] for i in parsed.structure}["CMD"])


def test_every_deployment_passes_the_origins_and_the_auth_secret_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--allow-origin and the token keys reach `chat serve` on EC2 (docker run's --env
    and the SSM env file), Fargate (environment + SSM secrets) and Kubernetes (env +
    a Secret), the keys only ever by reference."""
    ec2 = _auth_service("ec2")
    args, env = _docker_run(ec2)
    parameters = json.loads(
        {f["path"]: f["content"] for f in _user_data(ec2)["write_files"]}["/etc/escala/chat.json"]
    )["parameters"]
    assert parameters["ESCALA_CHAT_AUTH_SECRET"] == "/escala/chat/auth"
    assert KEYS not in render_chat_user_data(ec2)
    _checked(_served(monkeypatch, args, {**env, "ESCALA_CHAT_AUTH_SECRET": KEYS}))

    fargate = _auth_service("fargate")
    assert parameter_env(fargate)["ESCALA_CHAT_AUTH_SECRET"] == "/escala/chat/auth"
    env = _task_environment(fargate)
    _checked(_served(monkeypatch, _image_cmd(), {**env, "ESCALA_CHAT_AUTH_SECRET": KEYS}))

    chat = ChatDeployment.for_cluster(
        "c", "1.31.2", "eu-west-1", auth_secret="chat-auth", allow_origin=ORIGINS
    )
    args, env, refs = _pod(chat)
    assert refs["ESCALA_CHAT_AUTH_SECRET"] == {"name": "chat-auth", "key": "keys"}
    _checked(_served(monkeypatch, args, {**env, "ESCALA_CHAT_AUTH_SECRET": KEYS}))


@pytest.mark.parametrize("allowed", [True, False], ids=["--allow-eio3", "without"])
def test_every_deployment_serves_socket_io_2_clients_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    allowed: bool,
) -> None:
    """`create chatservice --allow-eio3` (EC2: docker run's --env; Fargate: the task's
    environment) and a ChatDeployment with it (the pod's env) give the chat
    ESCALA_CHAT_ALLOW_EIO3=true, which `chat serve` reads as its --allow-eio3; without
    it the variable is not there at all and the chat refuses Socket.IO 2 clients."""
    state = f"file://{tmp_path}/state"
    flag = ["--allow-eio3"] if allowed else []
    expected = {"ESCALA_CHAT_ALLOW_EIO3": "true"} if allowed else {}
    for name, flags in (("web", EC2_FLAGS), ("tasks", FARGATE_FLAGS)):
        created = escala(capsys, "create", "chatservice", name, *flags, *flag, "--state", state)
        assert created.code == 0, created.err
        shown = escala(capsys, "get", "chatservice", name, "--state", state, "-o", "yaml")
        assert yaml.safe_load(shown.out)["spec"]["allowEIO3"] is allowed
    store = open_store(state)

    args, env = _docker_run(store.get_chat_service("web"))
    assert {k: v for k, v in env.items() if "EIO3" in k} == expected
    assert _served(monkeypatch, args, env).allow_eio3 is allowed  # type: ignore[attr-defined]

    env = _task_environment(store.get_chat_service("tasks"))
    assert {k: v for k, v in env.items() if "EIO3" in k} == expected
    assert _served(monkeypatch, _image_cmd(), env).allow_eio3 is allowed  # type: ignore[attr-defined]

    args, env, _ = _pod(ChatDeployment.for_cluster("c", "1.31.2", "eu-west-1", allow_eio3=allowed))
    assert {k: v for k, v in env.items() if "EIO3" in k} == expected
    assert _served(monkeypatch, args, env).allow_eio3 is allowed  # type: ignore[attr-defined]


def test_a_deployment_with_a_bad_origin_is_refused_naming_the_field() -> None:
    with pytest.raises(SpecInvalid, match=r"spec.allowOrigin\[0\]: 'chat.example.com'"):
        chat_service_from_options(
            ChatServiceOptions(
                name="chat", platform="fargate", zones=["eu-west-1a", "eu-west-1b"],  # type: ignore[arg-type]
                image=IMAGE, redis_parameter="/r", allow_origin=["chat.example.com"],
                auth_secret_parameter="redis://not-a-name",
            )
        )  # fmt: skip
    chat = ChatDeployment.for_cluster("c", "1.31.2", "eu-west-1", allow_origin=["ftp://x"])
    with pytest.raises(SpecInvalid, match="--allow-origin: 'ftp://x'"):
        validate_chat_deployment(chat)
