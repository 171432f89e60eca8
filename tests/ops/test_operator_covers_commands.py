"""The operator policy grants every AWS call escala's commands make, day 2 included.

Not a copy of a list: the whole life of a cluster is run through the command line
against moto, every AWS request escala sends is recorded (tests/aws_calls.py; the
requests still reach moto), turned into the IAM action that authorises it, and looked
up in `escala iam create-operator`'s policy.
"""

from pathlib import Path

import pytest

from escala.ops.iam_operator import operator_actions
from tests.aws_calls import Call, record_calls
from tests.cli.run import escala, public_key
from tests.reconcile.specs import IMAGE, NAME, ZONES
from tests.volumes.test_etcd_restore import put_backup

# S3 is the one service whose IAM action names differ from its API operation names
# (AWS's "Actions, resources, and condition keys for Amazon S3").
S3_ACTIONS = {
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "DeleteObjects": "s3:DeleteObject",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
}
S3_SAME_NAME = {
    "CreateBucket",
    "GetBucketLocation",
    "GetBucketVersioning",
    "PutBucketVersioning",
    "GetObject",
    "PutObject",
    "DeleteObject",
}
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}


# Signing names that are not the service's IAM prefix (CloudWatch signs as `monitoring`).
IAM_PREFIX = {"monitoring": "cloudwatch"}


def iam_action(call: Call) -> str:
    """The IAM action that authorises one API operation."""
    service, operation = IAM_PREFIX.get(call.service, call.service), call.operation
    if service != "s3":
        return f"{service}:{operation}"
    if operation in S3_ACTIONS:
        return S3_ACTIONS[operation]
    assert operation in S3_SAME_NAME, f"map S3 operation {operation} to its IAM action"
    return f"s3:{operation}"


@pytest.fixture
def called(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    return record_calls(monkeypatch)


def test_every_call_of_the_cluster_commands_is_granted_to_the_operator(
    aws: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    called: list[Call],
) -> None:
    key = tmp_path / "admin.pub"
    key.write_text(public_key())
    kubeconfig = tmp_path / "kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    state = ["--state", "s3://escala-state"]
    named = ["--name", NAME, *state]

    def ok(*args: str) -> str:
        result = escala(capsys, *args)
        assert result.code == 0, (args, result.err)
        return result.out

    ok("state", "create", "--bucket", "escala-state")
    # no --zones: the region's zones are looked up (DescribeAvailabilityZones)
    ok(
        "create", "cluster", *named, "--master-count", "3",
        "--node-count", "1", "--ssh-public-key", str(key), "--image", IMAGE, "--yes",
    )  # fmt: skip
    ok("get", "clusters", *state)
    ok("set", "instancegroup", "nodes", *named, "spec.machineType=t3.large")
    ok("create", "instancegroup", "spot", *named, "--mixed-instances", "t3.small,t3a.small",
       "--spot", "--image", IMAGE, "--yes")  # fmt: skip
    applied = ok("update", "cluster", *named, "--yes")
    assert "launchTemplateVersion: 1 -> 2" in applied, applied
    assert "NeedsUpdate" in ok("rolling-update", "cluster", *named, "--cloudonly")
    ok("rolling-update", "cluster", *named, "--yes", "--cloudonly",
       "--instance-group", "nodes", "--interval", "1s")  # fmt: skip
    ok("rolling-update", "cluster", *named, "--yes", "--cloudonly", "--force",
       "--instance-group", "nodes", "--max-surge", "1", "--interval", "1s")  # fmt: skip
    ok("export", "kubeconfig", *named, "--admin", "--kubeconfig", str(kubeconfig))
    ok("access", "grant", "ana", "--group", "dev", "--role", "view", *named,
       "--out", str(tmp_path / "ana.kubeconfig"), "-o", "yaml")  # fmt: skip
    validate = escala(capsys, "validate", "cluster", *named, "--kubeconfig", str(kubeconfig))
    assert validate.code == 1 and "cannot reach the Kubernetes API" in validate.err
    ok("upgrade", "cluster", *named, "--yes")
    ok("update", "cluster", *named, "--yes")
    ok("get", "secrets", *named)
    ok("create", "volume", "data", *named, "--zone", ZONES[0], "--size", "5", "--yes")
    ok("get", "volumes", *named)
    ok("delete", "volume", "data", *named, "--yes")
    backup = put_backup("escala-state", NAME)
    ok("get", "backups", *named)
    ok("restore", "etcd", "--backup", backup, *named, "--force", "--yes")
    ok("delete", "instancegroup", "spot", *named, "--cloudonly", "--yes")
    ok("delete", "cluster", *named, "--yes")

    actions = {iam_action(c) for c in called}
    # The run did reach the day-2 calls this test is about.
    assert {
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:DetachInstances",
        "ec2:ModifyLaunchTemplate",
        "ec2:CreateVolume",
        "ssm:SendCommand",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstanceTypeOfferings",
        "autoscaling:DeleteAutoScalingGroup",
        "elasticloadbalancing:DescribeLoadBalancers",
        "s3:PutObject",
    } <= actions
    missing = sorted(actions - NEEDS_NO_PERMISSION - set(operator_actions()))
    assert not missing, f"the operator policy lacks {missing}"
