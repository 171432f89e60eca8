"""The cloud-init user-data of the chat's EC2 instances: Docker runs the chat's image.

No secret is in here: the instance reads the Redis and PostgreSQL URLs at boot from
their SSM SecureString parameters (with the instance role, which may read only those)
into a root-only env file on tmpfs, which `docker run --env-file` hands to the chat
(ESCALA_CHAT_REDIS / ESCALA_CHAT_DATABASE, the variables `escala chat serve` reads).
A systemd unit keeps the container running and gives it the chat's drain time on stop.
Docker's awslogs driver sends the chat's output to the service's log group (a stream
per container), where its EMF lines become the chat's CloudWatch metrics.
"""

import json
from typing import Any

import yaml

from escala.api.chat_service_spec import CHAT_PORT, ChatService
from escala.model.chat_service.front import METRICS_ENV, log_group_name, spec_env
from escala.model.chat_service.parameters import parameter_env

ENV_FILE = "/run/escala/chat.env"
# The chat's own drain (`--drain-timeout`, 10 s by default) plus margin.
STOP_TIMEOUT = 30

# Run by systemd before the container: SSM parameters -> env file; an ECR image -> login.
FETCH_SCRIPT = f'''#!/usr/bin/python3
"""Write the chat's secrets from SSM to {ENV_FILE} (mode 0600) and log Docker in to ECR."""
import base64, json, os, subprocess, sys
import boto3

config = json.load(open("/etc/escala/chat.json"))
ssm = boto3.client("ssm", region_name=config["region"])
os.makedirs(os.path.dirname("{ENV_FILE}"), mode=0o700, exist_ok=True)
fd = os.open("{ENV_FILE}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as env:
    for variable, name in sorted(config["parameters"].items()):
        value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        env.write(f"{{variable}}={{value}}\\n")
registry = config["image"].split("/")[0]
if ".dkr.ecr." in registry:
    token = boto3.client("ecr", region_name=config["region"]).get_authorization_token()
    user, password = base64.b64decode(
        token["authorizationData"][0]["authorizationToken"]
    ).decode().split(":", 1)
    subprocess.run(
        ["docker", "login", "--username", user, "--password-stdin", registry],
        input=password.encode(), check=True,
    )
sys.exit(0)
'''


def _unit(service: ChatService) -> str:
    image, name = str(service.spec.image), service.name
    from_spec = "".join(f"--env {k}={v} " for k, v in spec_env(service.spec).items())
    # (the stream is named after the container's ID, one per container started)
    log_options = (
        f"--log-driver awslogs --log-opt awslogs-region={service.spec.region} "
        f"--log-opt awslogs-group={log_group_name(name)}"
    )
    return f"""[Unit]
Description=escala chat (Socket.IO) in Docker
After=docker.service network-online.target
Requires=docker.service
Wants=network-online.target

[Service]
Restart=always
RestartSec=5
TimeoutStopSec={STOP_TIMEOUT + 5}
ExecStartPre=/usr/local/sbin/escala-chat-secrets
ExecStartPre=-/usr/bin/docker rm -f escala-chat
ExecStart=/usr/bin/docker run --rm --name escala-chat --env-file {ENV_FILE} \\
  {from_spec}--env {METRICS_ENV}={name} --publish {CHAT_PORT}:{CHAT_PORT} \\
  {log_options} {image} \\
  --host 0.0.0.0 --port {CHAT_PORT} --log-format json --proxy-hops 1
ExecStop=/usr/bin/docker stop --time {STOP_TIMEOUT} escala-chat

[Install]
WantedBy=multi-user.target
"""


def _file(path: str, content: str, permissions: str = "0644") -> dict[str, str]:
    return {"path": path, "permissions": permissions, "content": content}


def render_chat_user_data(service: ChatService) -> str:
    """`#cloud-config` for one chat instance (valid against cloud-init's schema)."""
    spec = service.spec
    config = {"region": spec.region, "image": spec.image, "parameters": parameter_env(service)}
    document: dict[str, Any] = {
        "package_update": True,
        "packages": ["docker.io", "python3-boto3"],
        "write_files": [
            _file("/etc/escala/chat.json", json.dumps(config, indent=2, sort_keys=True) + "\n"),
            _file("/usr/local/sbin/escala-chat-secrets", FETCH_SCRIPT, "0755"),
            _file("/etc/systemd/system/escala-chat.service", _unit(service)),
        ],
        "runcmd": [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", "docker.service", "escala-chat.service"],
        ],
    }
    return "#cloud-config\n" + yaml.safe_dump(document, sort_keys=False)
