"""The chat's Dockerfile as dockerfile-parse reads it: what `escala deploy chat` relies on
(the port, the user, the health endpoint, the entry point) and the shape users get by
default. tests/image builds and runs it for real."""

import json
from pathlib import Path

from dockerfile_parse import DockerfileParser

from escala.kube.manifests import CHAT_UID, PORT

DOCKERFILE = Path(__file__).parents[2] / "Dockerfile"


def instructions() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in DockerfileParser(str(DOCKERFILE)).structure:
        out.setdefault(item["instruction"], []).append(item["value"])
    return out


def test_dockerfile_runs_the_chat_as_the_user_and_port_the_manifests_expect() -> None:
    parsed = instructions()
    assert parsed["ARG"][0] == "BASE_IMAGE=python:3.12-slim"  # users' default base
    assert parsed["FROM"] == ["${BASE_IMAGE} AS wheels", "${BASE_IMAGE}"]  # two stages
    assert any("pip install --no-index" in run for run in parsed["RUN"])
    assert parsed["USER"][-1].split(":")[0] == str(CHAT_UID)
    assert parsed["EXPOSE"] == [str(PORT)]
    assert json.loads(parsed["ENTRYPOINT"][0]) == ["escala", "chat", "serve"]
    cmd = json.loads(parsed["CMD"][0])
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert "/healthz" in parsed["HEALTHCHECK"][0]
