"""SSM Run Command on a cluster's masters: how `escala restore etcd` runs each master's
`escala-etcd` steps without SSH (the AWS-RunShellScript document, as root).

The masters' SSM agent (on Ubuntu's AWS images) needs AGENT_ACTIONS on their role
(`escala.model.cluster.iam_roles`); the operator needs DAY2_ACTIONS.
"""

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import CLUSTER_TAG, ROLE_TAG
from escala.errors import CloudError
from escala.reconcile.retry import error_code

DAY2_ACTIONS = ("ec2:DescribeInstances", "ssm:SendCommand", "ssm:GetCommandInvocation")
# AWS's AmazonSSMManagedInstanceCore policy, which an instance's SSM agent needs.
AGENT_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
)
DONE = {"Success", "Failed", "Cancelled", "TimedOut", "Cancelling"}


@dataclass(frozen=True)
class Master:
    """A running master: its instance, its node (and etcd member) name, its address."""

    instance_id: str
    name: str
    ip: str


@dataclass(frozen=True)
class CommandResult:
    status: str
    stdout: str
    stderr: str


def running_masters(cloud: ClientFactory, cluster_name: str) -> list[Master]:
    """The cluster's running masters, by name. kubeadm names a node, and its etcd
    member, after the instance's private DNS name."""
    filters = [
        {"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster_name]},
        {"Name": f"tag:{ROLE_TAG}", "Values": ["master"]},
        {"Name": "instance-state-name", "Values": ["running"]},
    ]
    pages = cloud.client("ec2").get_paginator("describe_instances").paginate(Filters=filters)
    masters = [
        Master(i["InstanceId"], i["PrivateDnsName"], i["PrivateIpAddress"])
        for page in pages
        for reservation in page["Reservations"]
        for i in reservation["Instances"]
    ]
    return sorted(masters, key=lambda m: m.name)


def run_command(cloud: ClientFactory, instance_id: str, argv: list[str], comment: str) -> str:
    """Start `argv` as root on the instance; returns the command's ID."""
    try:
        answer = cloud.client("ssm").send_command(
            InstanceIds=[instance_id],
            DocumentName="AWS-RunShellScript",
            Comment=comment[:100],
            Parameters={"commands": [shlex.join(argv)], "executionTimeout": ["900"]},
        )
    except ClientError as e:
        raise CloudError(f"{comment} on {instance_id}: {error_code(e)}: {e}") from e
    return str(answer["Command"]["CommandId"])


def wait_for_command(
    cloud: ClientFactory,
    command_id: str,
    instance_id: str,
    deadline: float = 1200.0,
    sleep: Callable[[float], None] = time.sleep,
) -> CommandResult:
    """Poll the command on the instance until it ends (or `deadline` seconds pass)."""
    ssm = cloud.client("ssm")
    until = time.monotonic() + deadline
    while True:
        try:
            got = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except ClientError as e:  # answered before the invocation is registered
            if error_code(e) != "InvocationDoesNotExist":
                raise CloudError(f"reading command {command_id}: {error_code(e)}") from e
            got = {"Status": "Pending"}
        if got["Status"] in DONE:
            return CommandResult(
                got["Status"],
                got.get("StandardOutputContent", ""),
                got.get("StandardErrorContent", ""),
            )
        if time.monotonic() > until:
            return CommandResult("TimedOut", "", f"still {got['Status']} after {deadline:.0f}s")
        sleep(2.0)
