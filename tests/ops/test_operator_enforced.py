"""The operator `escala iam create-operator` makes, with IAM enforced: a sandbox started
with `--enforce-iam` (escala.cli.sandbox_iam) checks every request against the caller's
policies. The operator runs a cluster's and a chat service's whole life."""

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.cli.run import escala, public_key
from tests.conftest import REGION, start_sandbox
from tests.leaks import leftovers
from tests.model.chat_service.specs import (
    DATABASE_PARAMETER,
    FARGATE_FLAGS,
    REDIS_PARAMETER,
)
from tests.model.chat_service.specs import NAME as SERVICE
from tests.reconcile.specs import IMAGE
from tests.servers import stop

BUCKET = "escala-state"
CLUSTER = "proyecto.k8s.local"


@pytest.fixture(scope="module")
def enforcing_sandbox() -> Iterator[str]:
    proc, port = start_sandbox("--enforce-iam")
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


def test_the_operator_runs_a_cluster_and_a_chat_service_with_iam_enforced(
    account: Account, capsys, tmp_path
) -> None:
    key = tmp_path / "admin.pub"
    key.write_text(public_key())
    ssm = boto3.client("ssm")  # the data stores' URLs, an administrator's to give
    for name in (REDIS_PARAMETER, DATABASE_PARAMETER):
        ssm.put_parameter(Name=name, Value="redis://secret@db:1/0", Type="SecureString")

    account.operator()
    named = ["--name", CLUSTER]
    _ok(capsys, "create", "cluster", *named, "--master-count", "1", "--allow-single-master",
        "--node-count", "1", "--ssh-public-key", str(key), "--image", IMAGE, "--yes")  # fmt: skip
    _ok(capsys, "set", "instancegroup", "nodes", *named, "spec.machineType=t3.large")
    assert "launchTemplateVersion: 1 -> 2" in _ok(capsys, "update", "cluster", *named, "--yes")
    _ok(capsys, "delete", "cluster", *named, "--yes")

    _ok(capsys, "create", "chatservice", SERVICE, *FARGATE_FLAGS, "--yes")
    _ok(capsys, "set", "chatservice", SERVICE, "spec.maxSize=6")
    _ok(capsys, "update", "chatservice", SERVICE, "--yes")
    _ok(capsys, "delete", "chatservice", SERVICE, "--yes")

    account.admin()
    assert (
        leftovers(
            keep=frozenset(
                {f"SSMParameter/{REDIS_PARAMETER}", f"SSMParameter/{DATABASE_PARAMETER}"}
            )
        )
        == []
    )
