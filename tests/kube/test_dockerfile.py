"""The chat's Dockerfile. No image can be built here (no container registry is
reachable), so this checks what `escala deploy chat` relies on, as parsed by
dockerfile-parse: the port, the user, the health endpoint and the entry point."""

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
    assert parsed["FROM"] == ["python:3.12-slim"]
    assert any("pip install ." in run for run in parsed["RUN"])
    assert parsed["USER"][-1].split(":")[0] == str(CHAT_UID)
    assert parsed["EXPOSE"] == [str(PORT)]
    assert json.loads(parsed["ENTRYPOINT"][0]) == ["escala", "chat", "serve"]
    cmd = json.loads(parsed["CMD"][0])
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert "/healthz" in parsed["HEALTHCHECK"][0]
