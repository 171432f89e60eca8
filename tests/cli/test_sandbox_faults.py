"""`escala sandbox --faults`: each service's throttling error reaches boto3 with the code
and HTTP status AWS sends, resets and lost answers look like dropped connections, and
the same seed fails the same calls."""

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from tests.faults import REGION, Sandbox, aws_env, sandbox

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox() as running:
        yield running


def _client(service: str) -> object:
    return boto3.client(service, region_name=REGION, config=NO_RETRIES)


CALLS = {
    "ec2": lambda c: c.describe_vpcs(),
    "autoscaling": lambda c: c.describe_auto_scaling_groups(),
    "iam": lambda c: c.list_roles(),
    "elbv2": lambda c: c.describe_load_balancers(),
    "cloudwatch": lambda c: c.describe_alarms(),  # smithy-rpc-v2-cbor in botocore 1.44
    "ecs": lambda c: c.list_clusters(),
    "logs": lambda c: c.describe_log_groups(),
    "application-autoscaling": lambda c: c.describe_scalable_targets(ServiceNamespace="ecs"),
    "ssm": lambda c: c.describe_parameters(),
    "ecr": lambda c: c.describe_repositories(),
    "s3": lambda c: c.list_objects_v2(Bucket="some-bucket"),
}
EXPECTED = {
    "ec2": ("RequestLimitExceeded", 503),
    "autoscaling": ("Throttling", 400),
    "iam": ("Throttling", 400),
    "elbv2": ("Throttling", 400),
    "cloudwatch": ("Throttling", 400),
    "ecs": ("ThrottlingException", 400),
    "logs": ("ThrottlingException", 400),
    "application-autoscaling": ("ThrottlingException", 400),
    "ssm": ("ThrottlingException", 400),
    "ecr": ("ThrottlingException", 400),
    "s3": ("SlowDown", 503),
}


def test_each_service_is_throttled_in_its_own_words(box: Sandbox) -> None:
    box.reset()
    box.faults(rate=1.0, kinds=("throttled",))
    with aws_env(box):
        for service, call in CALLS.items():
            with pytest.raises(ClientError) as throttled:
                call(_client(service))
            error = throttled.value.response
            got = (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"])
            assert got == EXPECTED[service], service
    assert box.stats()["faults"]["throttled"] == len(CALLS)


def test_resets_and_lost_answers_are_dropped_connections(box: Sandbox) -> None:
    box.reset()
    with aws_env(box):
        box.faults(rate=1.0, kinds=("lost",))
        with pytest.raises(ConnectionClosedError):
            _client("ec2").create_vpc(CidrBlock="10.9.0.0/16")
        box.faults()
        # the lost answer's VPC was made all the same: what a retried create must expect
        vpcs = _client("ec2").describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.9.0.0/16"]}])
        assert len(vpcs["Vpcs"]) == 1
        box.faults(rate=1.0, kinds=("reset",))
        with pytest.raises(ConnectionClosedError):
            _client("ec2").create_vpc(CidrBlock="10.8.0.0/16")
        box.faults()
        vpcs = _client("ec2").describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.8.0.0/16"]}])
        assert vpcs["Vpcs"] == []


def test_the_same_seed_fails_the_same_calls(box: Sandbox) -> None:
    def faulted(seed: int) -> list[bool]:
        box.faults(seed=seed, rate=0.5, kinds=("500",))
        outcomes = []
        for _ in range(12):
            try:
                _client("iam").list_roles()
                outcomes.append(False)
            except ClientError as e:
                assert e.response["Error"]["Code"] == "InternalFailure"
                outcomes.append(True)
        return outcomes

    box.reset()
    with aws_env(box):
        first, again, other = faulted(3), faulted(3), faulted(4)
    assert first == again and any(first) and not all(first)
    assert other != first


def test_a_bad_faults_flag_exits_2_naming_it() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "escala", "sandbox", "--faults", "seven"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 2 and "--faults" in out.stderr and "SEED:RATE" in out.stderr
