"""`escala sandbox`: a moto server on loopback that the whole walk-through runs against."""

import base64
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.cli.run import public_key
from tests.servers import free_port

PUBLIC_KEY = public_key()


def _escala(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "escala", *args], capture_output=True, text=True, env=env
    )


def test_sandbox_refuses_a_non_loopback_address() -> None:
    out = _escala("sandbox", "--host", "0.0.0.0", env=dict(os.environ))
    assert out.returncode == 2
    assert "--host" in out.stderr and "loopback" in out.stderr


def test_walk_through_against_the_sandbox(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "escala", "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        exports: dict[str, str] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").strip().partition("=")
                exports[key] = value
            if line.startswith("# Ctrl-C"):
                break
        assert exports["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{port}"
        env = {**os.environ, **exports, "ESCALA_STATE_STORE": "s3://walk-state"}
        env.pop("AWS_PROFILE", None)
        (tmp_path / "admin.pub").write_text(PUBLIC_KEY)

        state = _escala("state", "create", "--bucket", "walk-state", env=env)
        assert state.returncode == 0, state.stderr
        create = _escala(
            "create", "cluster", "--name", "walk.k8s.local",
            "--zones", "eu-west-1a,eu-west-1b,eu-west-1c", "--node-size", "t3.small",
            "--ssh-public-key", str(tmp_path / "admin.pub"), "--yes", env=env,
        )  # fmt: skip
        assert create.returncode == 0, create.stderr
        assert "Applied:" in create.stdout

        # The default Ubuntu 24.04 image resolved inside the sandbox, and every
        # master group got its own zone.
        session = boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        )
        asg = session.client("autoscaling", endpoint_url=env["AWS_ENDPOINT_URL"])
        groups = asg.describe_auto_scaling_groups()["AutoScalingGroups"]
        masters = [g for g in groups if g["AutoScalingGroupName"].startswith("master-")]
        assert sorted(z for g in masters for z in g["AvailabilityZones"]) == [
            "eu-west-1a",
            "eu-west-1b",
            "eu-west-1c",
        ]
        again = _escala("update", "cluster", "--name", "walk.k8s.local", env=env)
        assert again.returncode == 0, again.stderr
        assert "No changes need to be applied" in again.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def test_a_new_launch_template_version_checks_its_user_data_as_aws_does(aws: str) -> None:
    """The sandbox's patch parses a new version's UserData: bad base64 is refused (400, as
    CreateLaunchTemplate refuses it), good base64 is kept byte for byte."""
    ec2 = boto3.client("ec2")
    ec2.create_launch_template(
        LaunchTemplateName="probe", LaunchTemplateData={"ImageId": "ami-12c6146b"}
    )
    with pytest.raises(ClientError) as refused:
        ec2.create_launch_template_version(
            LaunchTemplateName="probe", LaunchTemplateData={"UserData": "not base64!"}
        )
    assert refused.value.response["Error"]["Code"] == "InvalidUserData.Malformed"
    encoded = base64.b64encode(b"#cloud-config\n").decode()
    ec2.create_launch_template_version(
        LaunchTemplateName="probe", LaunchTemplateData={"UserData": encoded}
    )
    kept = ec2.describe_launch_template_versions(LaunchTemplateName="probe", Versions=["2"])
    assert kept["LaunchTemplateVersions"][0]["LaunchTemplateData"]["UserData"] == encoded


def test_a_rule_of_a_protocol_without_ports_is_kept_as_aws_keeps_it(aws: str) -> None:
    """calico's IP-in-IP (protocol 4) opened without FromPort/ToPort: moto 5.2.5 answered
    500; AWS allows every port of such a protocol, and so does the sandbox's patch."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="probe", Description="probe", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "4", "UserIdGroupPairs": [{"GroupId": group["GroupId"]}]}],
    )
    [rule] = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"][0][
        "IpPermissions"
    ]
    assert rule["IpProtocol"] == "4" and "FromPort" not in rule


def test_an_updated_target_tracking_policy_leaves_no_alarm_once_deleted(aws: str) -> None:
    """The sandbox's patch: PutScalingPolicy on an existing target-tracking policy replaces
    its alarms (moto kept the old two forever: the Fargate service's 2 leaked alarms)."""
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="probe")
    ecs.create_service(cluster="probe", serviceName="probe", desiredCount=1)
    scaling = boto3.client("application-autoscaling")
    target = {
        "ServiceNamespace": "ecs",
        "ResourceId": "service/probe/probe",
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=4)
    for value in (70.0, 40.0):
        scaling.put_scaling_policy(
            **target, PolicyName="cpu", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": value,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                },
            },
        )  # fmt: skip
    cloudwatch = boto3.client("cloudwatch")
    assert len(cloudwatch.describe_alarms()["MetricAlarms"]) == 2
    scaling.delete_scaling_policy(**target, PolicyName="cpu")
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []


def test_a_deleted_group_takes_its_scaling_policies_along(aws: str) -> None:
    """The sandbox's patch: DeleteAutoScalingGroup deletes the group's policies, as AWS."""
    boto3.client("ec2").create_launch_template(
        LaunchTemplateName="probe", LaunchTemplateData={"ImageId": "ami-12c6146b"}
    )
    asg = boto3.client("autoscaling")
    asg.create_auto_scaling_group(
        AutoScalingGroupName="probe", MinSize=0, MaxSize=1, AvailabilityZones=["eu-west-1a"],
        LaunchTemplate={"LaunchTemplateName": "probe"},
    )  # fmt: skip
    asg.put_scaling_policy(
        AutoScalingGroupName="probe", PolicyName="cpu", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={
            "TargetValue": 50.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
        },
    )  # fmt: skip
    asg.delete_auto_scaling_group(AutoScalingGroupName="probe", ForceDelete=True)
    assert asg.describe_policies()["ScalingPolicies"] == []


def test_a_resent_create_with_the_same_client_token_answers_the_first_resource(aws: str) -> None:
    """The sandbox's patch: botocore resends CreateRouteTable/CreateVolume with the same
    ClientToken when an answer is lost; AWS makes one resource, so does the sandbox."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    first, again = (
        ec2.create_route_table(VpcId=vpc, ClientToken="t-1")["RouteTable"]["RouteTableId"]
        for _ in range(2)
    )
    other = ec2.create_route_table(VpcId=vpc, ClientToken="t-2")["RouteTable"]["RouteTableId"]
    assert first == again != other
    volumes = {
        ec2.create_volume(AvailabilityZone="eu-west-1a", Size=1, ClientToken="v-1")["VolumeId"]
        for _ in range(2)
    }
    assert len(volumes) == 1
