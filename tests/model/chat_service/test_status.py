"""`escala describe chatservice`: live capacity, targets, alarms and activities, read from
the cloud (the sandbox), for both platforms; bad input; `--watch` until Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time

import boto3
import yaml

from tests.cli.run import escala
from tests.model.chat_service.specs import EC2_FLAGS, FARGATE_FLAGS, NAME


def _describe(capsys, state, *extra):  # type: ignore[no-untyped-def]
    return escala(capsys, "describe", "chatservice", NAME, *state, *extra)


def test_ec2_status_follows_the_group_as_it_scales(aws, state, parameters, capsys):
    assert escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state, "--yes").code == 0
    group = f"chat.{NAME}"
    boto3.client("autoscaling").set_desired_capacity(AutoScalingGroupName=group,
                                                     DesiredCapacity=3)  # fmt: skip

    shown = _describe(capsys, state, "-o", "json")
    assert shown.code == 0, shown.err
    status = json.loads(shown.out)
    scaling = status["scaling"]
    assert (scaling["kind"], scaling["name"]) == ("AutoScalingGroup", group)
    assert [scaling[k] for k in ("min", "desired", "running", "pending", "max")] == [2, 3, 3, 0, 5]
    (policy,) = scaling["policies"]
    assert (policy["name"], policy["metric"], policy["target"]) == (
        f"cpu-target.{NAME}", "ASGAverageCPUUtilization", 30.0,
    )  # fmt: skip
    # the spec's 60 % is of the chat's one core: 30 % of a t3.small's two vCPUs
    assert status["cpuTracking"] == {
        "cpuTarget": 60.0, "metric": "ASGAverageCPUUtilization", "metricTarget": 30.0,
        "on": "t3.small", "vcpus": 2,
        "says": "cpuTarget 60 % of the chat's core -> ASGAverageCPUUtilization 30 % on "
        "t3.small (2 vCPUs)",
    }  # fmt: skip
    # the instances are behind the load balancer, as its health checks see them
    instances = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[group]
    )["AutoScalingGroups"][0]["Instances"]
    assert sorted(t["id"] for t in status["targets"]) == sorted(i["InstanceId"] for i in instances)
    assert {t["port"] for t in status["targets"]} == {3000}
    # newest first: the user's change to 3, with AWS's cause text
    newest = scaling["activities"][0]
    assert "changing the desired capacity from 2 to 3" in newest["cause"]
    assert newest["description"].startswith("Launching a new EC2 instance: i-")
    assert len(scaling["activities"]) == 3  # two at creation, one for the third instance

    table = _describe(capsys, state)
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("AUTO SCALING GROUP"))
    assert lines[header + 1].split() == [group, "2", "3", "3", "0", "5"]
    assert lines[1] == (
        "CPU target: cpuTarget 60 % of the chat's core -> ASGAverageCPUUtilization 30 % on "
        "t3.small (2 vCPUs)"
    )
    assert "Last scaling activities, newest first:" in table.out
    assert "changing the desired capacity from 2 to 3" in " ".join(table.out.split())


def test_fargate_status_shows_both_policies_and_their_alarms(aws, state, parameters, capsys):
    created = escala(capsys, "create", "chatservice", NAME, *FARGATE_FLAGS, "--scale-on",
                     "cpu,connections", "--connections-target", "400", *state, "--yes")  # fmt: skip
    assert created.code == 0, created.err

    shown = _describe(capsys, state, "-o", "yaml")
    assert shown.code == 0, shown.err
    scaling = yaml.safe_load(shown.out)["scaling"]
    assert (scaling["kind"], scaling["name"]) == ("ECSService", f"chat-{NAME}")
    assert (scaling["min"], scaling["desired"], scaling["max"]) == (2, 2, 8)
    policies = {p["name"]: p for p in scaling["policies"]}
    assert set(policies) == {f"cpu-target.{NAME}", f"connections-target.{NAME}"}
    connections = policies[f"connections-target.{NAME}"]
    assert connections["metric"] == f"Escala/Chat ConnectedClients (Service={NAME}, Average)"
    assert connections["target"] == 400.0
    # a 512-unit task is half a vCPU, all of it the chat's: the target is the spec's
    assert policies[f"cpu-target.{NAME}"]["target"] == 70.0
    for policy in policies.values():  # AWS's high and low alarm per policy, with their state
        names = sorted(a["name"] for a in policy["alarms"])
        assert len(names) == 2 and "AlarmHigh" in names[0] and "AlarmLow" in names[1]
        assert all(a["state"] for a in policy["alarms"])
    assert scaling["activities"] == []

    table = _describe(capsys, state)
    assert "ECS SERVICE" in table.out and "No scaling activities yet." in table.out


def test_describe_says_what_is_missing(aws, state, parameters, capsys):
    unknown = _describe(capsys, state)
    assert unknown.code == 2
    assert f"chat service {NAME!r} is not in state store" in unknown.err
    assert "escala get chatservices" in unknown.err

    assert escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state).code == 0
    unbuilt = _describe(capsys, state)
    assert unbuilt.code == 0
    assert f"escala update chatservice {NAME} --yes" in unbuilt.out

    bad = _describe(capsys, state, "--watch", "--interval", "soon")
    assert bad.code == 2 and "--interval" in bad.err


def test_watch_redraws_until_ctrl_c(aws, state, parameters, capsys):
    assert escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state, "--yes").code == 0
    watch = subprocess.Popen(
        [sys.executable, "-m", "escala", "describe", "chatservice", NAME, *state, "--watch",
         "--interval", "0.2s", "-o", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    assert watch.stdout is not None
    first = ""
    while '"desired"' not in first:
        first = watch.stdout.readline()
    boto3.client("autoscaling").set_desired_capacity(AutoScalingGroupName=f"chat.{NAME}",
                                                     DesiredCapacity=4)  # fmt: skip
    deadline = time.monotonic() + 30
    seen = ""
    while '"desired": 4' not in seen and time.monotonic() < deadline:
        seen += watch.stdout.readline()
    watch.send_signal(signal.SIGINT)
    _, err = watch.communicate(timeout=30)
    assert '"desired": 2' in first, "the first document shows the group as created"
    assert '"desired": 4' in seen, "a later one shows the change"
    assert watch.returncode == 130, err
