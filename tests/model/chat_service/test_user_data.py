"""The chat instances' user-data passes cloud-init's own schema check, its scripts parse,
and it carries the SSM parameter names, never a secret."""

import subprocess

import yaml

from escala.model.chat_service.user_data import FETCH_SCRIPT, render_chat_user_data
from escala.ops.chat_service_lifecycle import ChatServiceOptions, chat_service_from_options
from tests.model.chat_service.specs import (
    AMI,
    DATABASE_PARAMETER,
    IMAGE,
    NAME,
    REDIS_PARAMETER,
    ZONES,
)


def _service():  # type: ignore[no-untyped-def]
    return chat_service_from_options(
        ChatServiceOptions(
            name=NAME, platform="ec2", zones=list(ZONES), image=IMAGE, ami=AMI,  # type: ignore[arg-type]
            redis_parameter=REDIS_PARAMETER, database_parameter=DATABASE_PARAMETER,
        )
    )  # fmt: skip


def test_user_data_is_valid_cloud_config(tmp_path) -> None:
    user_data = render_chat_user_data(_service())
    assert len(user_data.encode()) < 16384  # EC2's limit
    path = tmp_path / "user-data"
    path.write_text(user_data)
    out = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True
    )
    assert out.returncode == 0 and "Valid cloud-config" in out.stdout, out.stdout + out.stderr
    compile(FETCH_SCRIPT, "escala-chat-secrets", "exec")


def test_user_data_runs_the_image_with_secrets_from_ssm_only() -> None:
    document = yaml.safe_load(render_chat_user_data(_service()))
    files = {f["path"]: f["content"] for f in document["write_files"]}
    unit = files["/etc/systemd/system/escala-chat.service"]
    assert f"--env-file /run/escala/chat.env --publish 3000:3000 --log-driver journald {IMAGE}" in (
        unit.replace("\\\n  ", "")
    )
    config = yaml.safe_load(files["/etc/escala/chat.json"])
    assert config["parameters"] == {
        "ESCALA_CHAT_REDIS": REDIS_PARAMETER,
        "ESCALA_CHAT_DATABASE": DATABASE_PARAMETER,
    }
    assert "docker.io" in document["packages"]
