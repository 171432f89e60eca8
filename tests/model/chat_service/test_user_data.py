"""The chat instances' user-data passes cloud-init's own schema check, its scripts parse,
and it carries the SSM parameter names, never a secret."""

import os
import subprocess
import sys

import yaml

from escala.cloud.aws.iam_role import IamRole
from escala.model.chat_service import build_chat_service
from escala.model.chat_service.front import log_group_name
from escala.model.chat_service.user_data import ENV_FILE, FETCH_SCRIPT, render_chat_user_data
from escala.model.iam_policy import ECR_READ
from escala.ops.chat_service_lifecycle import ChatServiceOptions, chat_service_from_options
from tests.image.records import DIGEST, REGISTRY
from tests.model.chat_service.specs import (
    AMI,
    DATABASE_PARAMETER,
    IMAGE,
    NAME,
    REDIS_PARAMETER,
    T3_SMALL,
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
    command = unit.replace("\\\n  ", "")
    assert "--env-file /run/escala/chat.env --env ESCALA_CHAT_CLOUDWATCH_SERVICE=chat " in command
    # the chat's output, and so its EMF metric lines, go to the service's log group
    assert (
        "--log-driver awslogs --log-opt awslogs-region=eu-west-1 "
        f"--log-opt awslogs-group=/escala/chat/chat {IMAGE}"
    ) in command
    config = yaml.safe_load(files["/etc/escala/chat.json"])
    assert config["parameters"] == {
        "ESCALA_CHAT_REDIS": REDIS_PARAMETER,
        "ESCALA_CHAT_DATABASE": DATABASE_PARAMETER,
    }
    assert "docker.io" in document["packages"]


def test_instances_log_docker_in_to_ecr_with_their_role_and_run_the_digest(
    aws, parameters, tmp_path
) -> None:
    """The real boot-time script, its paths moved under tmp_path and `docker` recording
    what it is given, against moto: Docker logs in to the image's ECR registry with the
    token on standard input, the instance role may get it, and the unit runs the
    pushed `repository@sha256:...`."""
    digest_image = f"{REGISTRY}/escala/{NAME}@{DIGEST}"
    service = _service()
    service = service.model_copy(update={"spec": service.spec.model_copy(
        update={"image": digest_image})})  # fmt: skip
    document = yaml.safe_load(render_chat_user_data(service))
    files = {f["path"]: f["content"] for f in document["write_files"]}
    unit = files["/etc/systemd/system/escala-chat.service"]
    assert f"awslogs-group={log_group_name(service.name)} {digest_image} " in unit
    (tmp_path / "chat.json").write_text(files["/etc/escala/chat.json"])
    script = files["/usr/local/sbin/escala-chat-secrets"]
    script = script.replace("/etc/escala/chat.json", str(tmp_path / "chat.json"))
    script = script.replace(ENV_FILE, str(tmp_path / "run" / "chat.env"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(
        f'#!/bin/bash\nprintf "%s\\n" "$*" > {tmp_path}/argv\ncat > {tmp_path}/stdin\n'
    )
    (bin_dir / "docker").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    argv = (tmp_path / "argv").read_text().split()
    assert argv == ["login", "--username", "AWS", "--password-stdin", REGISTRY]
    password = (tmp_path / "stdin").read_text()
    assert password and password not in (tmp_path / "argv").read_text()
    assert password not in done.stdout + done.stderr
    granted = {a for s in instance_policy_of(service)["Statement"] for a in s["Action"]}
    assert set(ECR_READ) <= granted


def instance_policy_of(service):  # type: ignore[no-untyped-def]
    """The inline policy of the instances' role, as `update chatservice` would create it."""
    role = next(t for t in build_chat_service(service, T3_SMALL).values() if isinstance(t, IamRole))
    return role.policy
