"""What a newcomer hits in the first ten minutes: each mistake gets a message naming the
flag or field and the way out, exit 2 for input to fix, and nothing created.

Against moto (the `aws` fixture) and a file state store, through the real entry point.
"""

import http.server
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml

from escala import __version__
from tests.cli.run import escala
from tests.model.chat_service.specs import DATABASE_PARAMETER, EC2_FLAGS, REDIS_PARAMETER
from tests.reconcile.specs import IMAGE

NAME = "proyecto.k8s.local"
ZONES = "eu-west-1a,eu-west-1b,eu-west-1c"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str) -> Path:
    monkeypatch.setenv("ESCALA_STATE_STORE", f"file://{tmp_path}/state")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "state"


def create(capsys: pytest.CaptureFixture[str], *flags: str):  # type: ignore[no-untyped-def]
    return escala(capsys, "create", "cluster", "--name", NAME, *flags)


def vpcs() -> list[object]:
    return boto3.client("ec2").describe_vpcs()["Vpcs"]


def test_a_zone_the_region_lacks_is_refused_before_anything_is_written(state, capsys):
    before = vpcs()
    result = create(capsys, "--zones", "eu-west-1a,eu-west-1b,eu-west-1d", "--yes")
    assert result.code == 2
    assert "--zones: eu-west-1d is not an available zone of eu-west-1" in result.err
    assert "its zones are eu-west-1a, eu-west-1b, eu-west-1c" in result.err
    assert not state.exists()
    assert vpcs() == before


def test_update_refuses_a_stored_zone_the_region_lacks_and_creates_nothing(state, capsys, tmp_path):
    assert create(capsys, "--zones", ZONES).code == 0
    spec = yaml.safe_load(escala(capsys, "get", "cluster", NAME, "-o", "yaml").out)
    spec["spec"]["subnets"].append({"name": "eu-west-1d", "zone": "eu-west-1d"})
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(spec))
    assert escala(capsys, "replace", "-f", "cluster.yaml").code == 0
    before = vpcs()
    for flags in ([], ["--yes"]):
        result = escala(capsys, "update", "cluster", NAME, *flags)
        assert result.code == 2, result.err
        assert "spec.subnets: eu-west-1d is not an available zone of eu-west-1" in result.err
        assert f"escala edit cluster {NAME}" in result.err
    assert vpcs() == before


def test_zone_flags_are_named_not_the_region_derived_from_them(state, capsys):
    result = create(capsys, "--zones", "a,b,c")
    assert result.code == 2
    assert "--zones: 'a', 'b', 'c' are not zone names" in result.err
    assert "spec.region" not in result.err
    mixed = create(capsys, "--zones", "eu-west-1a,us-east-1b,us-east-1c")
    assert mixed.code == 2
    assert "--zones: the zones are in 2 regions (eu-west-1, us-east-1)" in mixed.err


def test_zones_of_another_region_than_the_shells_get_a_notice(state, capsys):
    result = create(capsys, "--zones", "eu-west-2a,eu-west-2b,eu-west-2c")
    assert result.code == 0, result.err
    assert "note: the zones are in eu-west-2, not in AWS_DEFAULT_REGION=eu-west-1" in result.err


@pytest.mark.parametrize(
    "command",
    [["update", "cluster", NAME], ["create", "cluster", NAME, "--zones", ZONES]],
    ids=["update", "create"],
)
def test_commands_before_state_create_exit_2_with_the_way_out(aws, capsys, command):
    result = escala(capsys, *command, "--state", "s3://not-made-yet")
    assert result.code == 2, result.err
    assert "the state store does not exist yet" in result.err
    assert "escala state create --bucket not-made-yet" in result.err


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "escala", *args], capture_output=True, text=True, env=env
    )


def _no_aws_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **env,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-west-1",
        **extra,
    }


def test_forgotten_sandbox_exports_get_a_hint_not_an_unexpected_error(tmp_path):
    no_credentials = _run("get", "clusters", "--state", "s3://b", env=_no_aws_env(tmp_path))
    assert no_credentials.returncode == 1
    assert "unexpected error" not in no_credentials.stderr
    assert "no AWS credentials found" in no_credentials.stderr
    assert "paste the export lines" in no_credentials.stderr

    env = _no_aws_env(
        tmp_path,
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="sandbox",
        AWS_SECRET_ACCESS_KEY="sandbox",
        AWS_MAX_ATTEMPTS="1",
    )
    gone = _run("get", "clusters", "--state", "s3://b", env=env)
    assert gone.returncode == 1
    assert "unexpected error" not in gone.stderr
    assert "cannot reach AWS at http://127.0.0.1:9" in gone.stderr
    assert "escala sandbox" in gone.stderr


class _NotAws(http.server.BaseHTTPRequestHandler):
    """An endpoint that answers every call with an HTML page, as a broken proxy does."""

    def do_POST(self) -> None:
        body = b"<html><body>Internal Server Error</body>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def not_aws() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAws)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_an_unreadable_reply_is_explained_never_shown_raw(tmp_path, not_aws):
    env = _no_aws_env(
        tmp_path, AWS_ENDPOINT_URL=not_aws, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x"
    )
    args = ["create", "cluster", NAME, "--zones", ZONES, "--state", f"file://{tmp_path}/s"]
    result = _run(*args, env=env)
    assert result.returncode == 1
    assert f"{not_aws} sent a reply escala cannot read" in result.stderr
    for raw in ("ResponseParserError", "Unable to parse", "<html>", "unexpected error"):
        assert raw not in result.stderr


def test_spec_mistakes_are_said_in_escalas_words(state, capsys, tmp_path):
    assert create(capsys, "--zones", ZONES).code == 0
    group = yaml.safe_load(escala(capsys, "get", "ig", "nodes", "--name", NAME, "-o", "yaml").out)
    group["spec"]["machineTyp"] = group["spec"].pop("machineType")
    group["spec"]["maxSize"] = "many"
    (tmp_path / "nodes.yaml").write_text(yaml.safe_dump(group))
    result = escala(capsys, "replace", "-f", "nodes.yaml")
    assert result.code == 2
    assert "spec.machineTyp: unknown field; did you mean 'machineType'?" in result.err
    assert "spec.maxSize: 'many' is not a whole number" in result.err
    for pydantic in ("Extra inputs are not permitted", "Input should be"):
        assert pydantic not in result.err


def test_a_chat_service_without_image_is_told_to_pass_or_push_one(state, capsys):
    """No --image means the one `escala image push` recorded; with none pushed, the plan
    says how to get one (not `None is not a container image`)."""
    flags = list(EC2_FLAGS)
    at = flags.index("--image")
    del flags[at : at + 2]
    assert escala(capsys, "create", "chatservice", "web", *flags).code == 0
    result = escala(capsys, "update", "chatservice", "web")
    assert result.code == 2
    assert "no image given and none pushed" in result.err and "image push" in result.err
    assert "None" not in result.err


def test_cluster_verbs_take_the_name_either_way_and_get_prints_one(state, capsys):
    assert escala(capsys, "create", "cluster", NAME, "--zones", ZONES, "--image", IMAGE).code == 0
    assert escala(capsys, "create", "cluster", "--name", "otro.k8s.local", "--zones", ZONES)
    by_position = escala(capsys, "update", "cluster", NAME)
    by_flag = escala(capsys, "update", "cluster", "--name", NAME)
    assert by_position.code == by_flag.code == 0
    assert by_position.out == by_flag.out
    one = yaml.safe_load(escala(capsys, "get", "cluster", NAME, "-o", "yaml").out)
    assert (one["kind"], one["metadata"]["name"]) == ("Cluster", NAME)
    everything = escala(capsys, "get", "clusters", "-o", "json").out
    assert "otro.k8s.local" in everything
    nameless = escala(capsys, "update", "cluster")
    assert nameless.code == 2
    assert "give the cluster's name" in nameless.err


def test_chat_service_verbs_take_the_name_either_way_and_get_prints_one(state, capsys):
    ssm = boto3.client("ssm")
    for parameter in (REDIS_PARAMETER, DATABASE_PARAMETER):
        ssm.put_parameter(Name=parameter, Value="redis://r:6379/0", Type="SecureString")
    assert escala(capsys, "create", "chatservice", "--name", "web", *EC2_FLAGS).code == 0
    assert escala(capsys, "create", "chatservice", "otro", *EC2_FLAGS).code == 0
    by_position = escala(capsys, "update", "chatservice", "web")
    by_flag = escala(capsys, "update", "chatservice", "--name", "web")
    assert by_position.code == by_flag.code == 0, by_flag.err
    assert by_position.out == by_flag.out and "Plan:" in by_flag.out
    assert escala(capsys, "set", "chatservice", "--name", "web", "spec.maxSize=7").code == 0
    one = yaml.safe_load(escala(capsys, "get", "chatservices", "web", "-o", "yaml").out)
    assert (one["kind"], one["metadata"]["name"], one["spec"]["maxSize"]) == (
        "ChatService",
        "web",
        7,
    )
    listed = escala(capsys, "get", "chatservices").out
    assert "web" in listed and "otro" in listed
    unknown = escala(capsys, "get", "chatservice", "webb")
    assert unknown.code == 2
    assert "chat service 'webb' not found" in unknown.err and "get chatservices" in unknown.err
    nameless = escala(capsys, "delete", "chatservice", "--yes")
    assert nameless.code == 2
    assert "give the chat service's name" in nameless.err and "--name" in nameless.err


def test_create_yes_ends_with_the_next_steps(state, capsys, tmp_path):
    result = create(capsys, "--zones", ZONES, "--image", IMAGE, "--yes")
    assert result.code == 0, result.err
    assert "Applied:" in result.out
    assert f"escala validate cluster --name {NAME}" in result.out
    assert f"escala export kubeconfig --name {NAME} --admin" in result.out


def test_version_and_completion_are_told(capsys):
    assert escala(capsys, "version").out.strip() == f"escala {__version__}"
    assert "--install-completion" in escala(capsys, "--help").out


def test_create_parameter_stores_a_secure_string_and_never_shows_it(aws, capsys, monkeypatch):
    secret = "redis://:s3cret-pw@redis.internal:6379/0"
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    stored = escala(capsys, "create", "parameter", "/escala/chat/redis")
    assert stored.code == 0, stored.err
    assert "stored as a SecureString in eu-west-1 (version 1)" in stored.out
    ssm = boto3.client("ssm")
    parameter = ssm.get_parameter(Name="/escala/chat/redis", WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", secret)

    monkeypatch.setattr(sys, "stdin", io.StringIO("redis://:other@x:6379\n"))
    again = escala(capsys, "create", "parameter", "/escala/chat/redis")
    assert again.code == 2
    assert "already exists" in again.err and "--overwrite" in again.err
    for result in (stored, again):
        assert "s3cret-pw" not in result.out + result.err
        assert "other@" not in result.out + result.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert escala(capsys, "create", "parameter", "/escala/chat/db").code == 2


# The verbs whose noun is the cluster itself, with flags that let each run on a cluster
# that is only a spec (no instances, no kubeconfig: validate says so, the same both ways).
DAY_2 = [
    ("describe", "cluster", "-o", "json"),
    ("metrics", "cluster", "-o", "json"),
    ("validate", "cluster", "-o", "json"),
    ("rolling-update", "cluster", "--cloudonly", "-o", "json"),
    ("upgrade", "cluster", "-o", "json"),
]


def shown(result) -> tuple[int, object, str]:  # type: ignore[no-untyped-def]
    """What a user gets, less the ends of a metrics window, which move with the clock."""
    data = yaml.safe_load(result.out)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in ("start", "end")}
    return result.code, data, result.err


@pytest.mark.parametrize("verb", DAY_2, ids=lambda verb: " ".join(verb[:2]))
def test_day_2_cluster_verbs_take_the_name_either_way(state, capsys, monkeypatch, verb):
    monkeypatch.setenv("KUBECONFIG", str(state.parent / "no-kubeconfig"))
    monkeypatch.delenv("ESCALA_CLUSTER_NAME", raising=False)
    assert create(capsys, "--zones", ZONES, "--image", IMAGE).code == 0
    command, noun, *flags = verb
    by_position = escala(capsys, command, noun, NAME, *flags)
    by_flag = escala(capsys, command, noun, "--name", NAME, *flags)
    assert shown(by_position) == shown(by_flag)
    assert "give the cluster's name" not in by_flag.err
    nameless = escala(capsys, command, noun, *flags)
    assert nameless.code == 2
    assert "`escala <verb> cluster NAME`, or --name NAME" in nameless.err
