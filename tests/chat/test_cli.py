"""`escala chat serve` refuses bad flags with exit 2, naming the flag, before it starts; and
the command lines the deployments run are ones it accepts."""

import json
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from escala.api.chat_deployment import ChatDeployment
from escala.cli import chat as chat_cli
from escala.cli.main import main
from escala.kube.manifests import chat_deployment
from escala.model.chat_service.fargate import environment


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
    """The checked ServeOptions `chat serve` would run with for these args and variables."""
    seen: list[object] = []
    monkeypatch.setattr(chat_cli, "run_serve", seen.append)
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
