"""The operator `escala iam create-operator` makes, with IAM enforced: a sandbox started
with `--enforce-iam` (escala.cli.sandbox_iam) checks every request against the caller's
policies. The operator runs a cluster's and both chat services' whole life; it cannot touch
an instance or a role escala does not own; a refusal is one line naming the action."""

import configparser
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.cli.run import escala, public_key
from tests.conftest import REGION, _start_sandbox
from tests.leaks import leftovers
from tests.model.chat_service.specs import (
    DATABASE_PARAMETER,
    EC2_FLAGS,
    FARGATE_FLAGS,
    REDIS_PARAMETER,
)
from tests.model.chat_service.specs import NAME as SERVICE
from tests.reconcile.specs import IMAGE, ZONES
from tests.servers import stop

BUCKET = "escala-state"
CLUSTER = "proyecto.k8s.local"


@pytest.fixture(scope="module")
def enforcing_sandbox() -> Iterator[str]:
    proc, port = _start_sandbox("--enforce-iam")
    yield f"http://127.0.0.1:{port}"
    stop(proc)  # type: ignore[arg-type]


class Account:
    """Switches this process's AWS identity between the account's root (the sandbox's
    key) and the operator (the profile create-operator wrote)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, credentials: Path) -> None:
        self.monkeypatch, self.credentials = monkeypatch, credentials

    def admin(self) -> None:
        self.monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3.client: this identity
        self.monkeypatch.delenv("AWS_PROFILE", raising=False)
        self.monkeypatch.setenv("AWS_ACCESS_KEY_ID", "sandbox")
        self.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sandbox")

    def operator(self) -> None:
        self.monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        self.monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
        self.monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
        self.monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(self.credentials))
        self.monkeypatch.setenv("AWS_PROFILE", "escala")


@pytest.fixture
def account(enforcing_sandbox, monkeypatch, tmp_path, capsys) -> Account:  # type: ignore[no-untyped-def]
    """A fresh account with a state bucket and an operator made as create-operator makes
    it (for every owner, S3 limited to the state bucket); the identity is the root's."""
    req = urllib.request.Request(f"{enforcing_sandbox}/moto-api/reset", method="POST")
    urllib.request.urlopen(req).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", enforcing_sandbox)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("ESCALA_STATE_STORE", f"s3://{BUCKET}")
    accounts = Account(monkeypatch, tmp_path / "credentials")
    accounts.admin()
    assert escala(capsys, "state", "create", "--bucket", BUCKET).code == 0
    made = escala(
        capsys, "iam", "create-operator", "--user", "escala",
        "--credentials-file", str(accounts.credentials),
    )  # fmt: skip
    assert made.code == 0, made.err
    return accounts


def _ok(capsys, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = escala(capsys, *args)
    assert result.code == 0, (args, result.err)
    return result.out


def test_the_operator_runs_a_cluster_and_both_chat_services_with_iam_enforced(
    account: Account, capsys, tmp_path
) -> None:
    key = tmp_path / "admin.pub"
    key.write_text(public_key())
    ssm = boto3.client("ssm")  # the data stores' URLs, an administrator's to give
    for name in (REDIS_PARAMETER, DATABASE_PARAMETER):
        ssm.put_parameter(Name=name, Value="redis://secret@db:1/0", Type="SecureString")

    account.operator()
    named = ["--name", CLUSTER]
    # private, with a bastion: the most kinds one cluster makes (NAT gateways, addresses)
    _ok(capsys, "create", "cluster", *named, "--master-count", "1", "--allow-single-master",
        "--node-count", "1", "--ssh-public-key", str(key), "--image", IMAGE,
        "--topology", "private", "--nat", "single", "--bastion", "--yes")  # fmt: skip
    _ok(capsys, "set", "instancegroup", "nodes", *named, "spec.machineType=t3.large")
    assert "launchTemplateVersion: 1 -> 2" in _ok(capsys, "update", "cluster", *named, "--yes")
    # a surge replaces the nodes: DetachInstances, the detached mark (CreateTags on owned
    # instances), TerminateInstanceInAutoScalingGroup
    _ok(capsys, "rolling-update", "cluster", *named, "--yes", "--cloudonly", "--force",
        "--instance-group", "nodes", "--max-surge", "1", "--interval", "1s")  # fmt: skip
    _ok(capsys, "delete", "cluster", *named, "--yes")

    for flags in (FARGATE_FLAGS, EC2_FLAGS):
        _ok(capsys, "create", "chatservice", SERVICE, *flags, "--yes")
        _ok(capsys, "set", "chatservice", SERVICE, "spec.maxSize=6")
        _ok(capsys, "update", "chatservice", SERVICE, "--yes")
        _ok(capsys, "describe", "chatservice", SERVICE)
        _ok(capsys, "delete", "chatservice", SERVICE, "--yes")

    account.admin()
    kept = frozenset({f"SSMParameter/{REDIS_PARAMETER}", f"SSMParameter/{DATABASE_PARAMETER}"})
    assert leftovers(keep=kept, state_bucket=BUCKET) == []


def _instance(tags: dict[str, str] | None = None) -> str:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    extra = {"TagSpecifications": [{"ResourceType": "instance", "Tags": [
        {"Key": k, "Value": v} for k, v in tags.items()]}]} if tags else {}  # fmt: skip
    answer = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, **extra)
    return str(answer["Instances"][0]["InstanceId"])


def _state(instance_id: str) -> str:
    (reservation,) = boto3.client("ec2").describe_instances(InstanceIds=[instance_id])[
        "Reservations"
    ]
    return str(reservation["Instances"][0]["State"]["Name"])


def test_the_operator_cannot_terminate_or_delete_what_escala_does_not_own(
    account: Account,
) -> None:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "ec2.amazonaws.com"}}]}  # fmt: skip
    foreign = _instance()
    owned = _instance({"KubernetesCluster": CLUSTER})
    boto3.client("iam").create_role(RoleName="billing", AssumeRolePolicyDocument=json.dumps(trust))
    boto3.client("ecs").create_cluster(clusterName="billing")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="billing", CreateBucketConfiguration={"LocationConstraint": REGION})

    account.operator()
    ec2, iam = boto3.client("ec2"), boto3.client("iam")
    with pytest.raises(ClientError) as terminate:
        ec2.terminate_instances(InstanceIds=[foreign])
    assert terminate.value.response["Error"]["Code"] == "AccessDenied"
    assert "ec2:TerminateInstances" in terminate.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as delete:
        iam.delete_role(RoleName="billing")
    assert delete.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as untagged:  # nothing is created without the tag
        ec2.create_vpc(CidrBlock="10.9.0.0/16")
    assert untagged.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as claim:  # nor claimed by tagging it afterwards
        ec2.create_tags(Resources=[foreign], Tags=[{"Key": "KubernetesCluster", "Value": "x"}])
    assert claim.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as ecs:  # JSON services answer in their own words
        boto3.client("ecs").delete_cluster(cluster="billing")
    assert ecs.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as bucket:  # S3: the state bucket only
        boto3.client("s3").list_objects_v2(Bucket="billing")
    assert bucket.value.response["Error"]["Code"] == "AccessDenied"
    ec2.terminate_instances(InstanceIds=[owned])  # the tag is what decides

    account.admin()
    assert _state(foreign) == "running"
    assert _state(owned) in ("shutting-down", "terminated")
    assert boto3.client("iam").get_role(RoleName="billing")["Role"]["RoleName"] == "billing"


def test_a_refusal_is_one_line_naming_the_action(account: Account, capsys, tmp_path) -> None:
    narrowed = escala(
        capsys, "iam", "create-operator", "--user", "escala", "--owner", "prod-*",
        "--credentials-file", str(account.credentials),
    )  # fmt: skip
    assert narrowed.code == 0, narrowed.err
    key = tmp_path / "admin.pub"
    key.write_text(public_key())

    account.operator()
    result = escala(
        capsys, "create", "cluster", "--name", "dev.k8s.local", "--zones", ",".join(ZONES),
        "--ssh-public-key", str(key), "--image", IMAGE, "--yes",
    )  # fmt: skip
    assert result.code == 1, result.err
    (line,) = result.err.strip().splitlines()
    denied = r"^error: creating \S+: permission denied: \S+:user/escala may not call ec2:Create"
    assert re.search(denied + r"\w+; its IAM policies lack ec2:Create\w+ ", line), line
    assert "Traceback" not in result.err
    config = configparser.ConfigParser()
    config.read(account.credentials)
    assert config["escala"]["aws_secret_access_key"] not in result.err
