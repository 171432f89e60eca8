"""`escala state create` against moto: versioned, encrypted, private, and safe to re-run."""

import boto3
import pytest

from tests.cli.run import escala


def test_state_bucket_is_versioned_encrypted_and_private(aws: str, capsys) -> None:
    for _ in range(2):  # the second run finds it and changes nothing
        result = escala(capsys, "state", "create", "--bucket", "proyecto-state")
        assert result.code == 0, result.err
        assert "export ESCALA_STATE_STORE=s3://proyecto-state" in result.out
    s3 = boto3.client("s3")
    assert s3.get_bucket_location(Bucket="proyecto-state")["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_versioning(Bucket="proyecto-state")["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket="proyecto-state")["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket="proyecto-state")["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4


def test_region_flag_places_the_bucket(aws: str, capsys) -> None:
    result = escala(capsys, "state", "create", "--bucket", "us-state", "--region", "us-east-1")
    assert result.code == 0, result.err
    assert boto3.client("s3").get_bucket_location(Bucket="us-state")["LocationConstraint"] in (
        None,
        "us-east-1",
    )


@pytest.mark.parametrize("bucket", ["Proyecto", "ab", "bad_name", "a..b"])
def test_bad_bucket_name_exits_2_and_creates_nothing(aws: str, capsys, bucket: str) -> None:
    result = escala(capsys, "state", "create", "--bucket", bucket)
    assert result.code == 2
    assert "--bucket" in result.err
    assert boto3.client("s3").list_buckets()["Buckets"] == []
