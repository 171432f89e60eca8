"""`escala iam create-operator` against moto: least privilege, key only in a 0600 file."""

import configparser
import json
import stat
from pathlib import Path

import boto3

from escala.ops.iam_operator import operator_actions
from escala.ops.operator_policy import policy_documents
from tests.cli.run import escala


def _operator(capsys, creds: Path, *extra: str):  # type: ignore[no-untyped-def]
    return escala(
        capsys, "iam", "create-operator", "--user", "escala", "--credentials-file", str(creds),
        "-o", "json", *extra,
    )  # fmt: skip


def _policy_actions(iam) -> list[str]:  # type: ignore[no-untyped-def]
    policies = iam.list_policies(Scope="Local")["Policies"]
    assert sorted(p["PolicyName"] for p in policies) == sorted(policy_documents())
    actions = set()
    for policy in policies:
        version = iam.get_policy_version(
            PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
        )
        document = version["PolicyVersion"]["Document"]
        document = json.loads(document) if isinstance(document, str) else document
        actions |= {a for s in document["Statement"] for a in s["Action"]}
    return sorted(actions)


def test_operator_gets_group_policy_user_and_a_private_key_file(aws: str, capsys, tmp_path) -> None:
    creds = tmp_path / "aws" / "credentials"
    creds.parent.mkdir()
    creds.write_text("[default]\naws_access_key_id = KEEPME\naws_secret_access_key = x\n")
    result = _operator(capsys, creds)
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert (out["group"], out["profile"], out["keyCreated"]) == ("escala-operators", "escala", True)

    iam = boto3.client("iam")
    assert [u["UserName"] for u in iam.get_group(GroupName="escala-operators")["Users"]] == [
        "escala"
    ]
    attached = iam.list_attached_group_policies(GroupName="escala-operators")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in attached) == sorted(policy_documents())
    actions = _policy_actions(iam)
    assert actions == operator_actions()
    assert "ec2:CreateVpc" in actions and "s3:PutBucketVersioning" in actions
    assert not any(a.endswith(":*") or a == "*" for a in actions)

    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    config = configparser.ConfigParser()
    config.read(creds)
    assert config["default"]["aws_access_key_id"] == "KEEPME"
    key_id = config["escala"]["aws_access_key_id"]
    secret = config["escala"]["aws_secret_access_key"]
    assert key_id == out["accessKeyId"]
    assert secret not in result.out + result.err


def test_rerun_keeps_the_key_and_the_policy(aws: str, capsys, tmp_path) -> None:
    creds = tmp_path / "credentials"
    assert _operator(capsys, creds).code == 0
    first = creds.read_text()
    again = _operator(capsys, creds)
    assert again.code == 0, again.err
    assert json.loads(again.out)["keyCreated"] is False
    assert creds.read_text() == first
    iam = boto3.client("iam")
    assert len(iam.list_access_keys(UserName="escala")["AccessKeyMetadata"]) == 1
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        assert len(iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]) == 1


def test_lost_credentials_file_gets_a_new_key_written(aws: str, capsys, tmp_path) -> None:
    assert _operator(capsys, tmp_path / "old").code == 0
    fresh = _operator(capsys, tmp_path / "new", "--profile", "ops")
    assert fresh.code == 0, fresh.err
    config = configparser.ConfigParser()
    config.read(tmp_path / "new")
    assert config["ops"]["aws_access_key_id"] == json.loads(fresh.out)["accessKeyId"]
    third = _operator(capsys, tmp_path / "third")
    assert third.code == 2
    assert "2 access keys" in third.err
    assert not (tmp_path / "third").exists()


def test_each_policy_fits_the_iam_managed_policy_size_limit() -> None:
    # AWS refuses managed policies over 6,144 characters (whitespace not counted).
    for document in policy_documents("a-rather-long-cluster-name-*", "a-state-bucket").values():
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144
