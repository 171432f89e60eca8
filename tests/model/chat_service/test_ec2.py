"""The EC2 case against a moto server: create -> apply -> plan again (no changes) ->
ownership tags on everything -> the scaling policy with the spec's numbers -> delete ->
nothing tagged left."""

import base64
import json

import boto3

from escala.cloud.aws.registry import find_owned
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import CLUSTER_TAG, as_dict, ownership_tag
from tests.cli.run import escala
from tests.leaks import leftovers
from tests.model.chat_service.specs import EC2_FLAGS, NAME, ZONES

OWNED = {CLUSTER_TAG: NAME, ownership_tag(NAME): "owned"}


def _owned(tags) -> bool:  # type: ignore[no-untyped-def]
    return OWNED.items() <= as_dict(tags).items()


def _elbv2_tags(arn: str) -> dict[str, str]:
    answer = boto3.client("elbv2").describe_tags(ResourceArns=[arn])
    return as_dict(answer["TagDescriptions"][0]["Tags"])


def test_ec2_chat_service_lifecycle(aws, state, parameters, capsys):
    created = escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state)
    assert created.code == 0, created.err
    assert f"escala update chatservice {NAME} --yes" in created.out
    listed = escala(capsys, "get", "chatservices", *state)
    assert listed.out.split("\n")[1].split() == [NAME, "ec2", ",".join(ZONES), "2", "5", "60%"]

    dry = escala(capsys, "update", "chatservice", NAME, *state)
    assert dry.code == 0 and "Must specify --yes to apply changes" in dry.out
    # the spec's 60 % of the chat's one core is 30 % of a t3.small's two vCPUs
    assert (
        "cpuTarget 60 % of the chat's core -> ASGAverageCPUUtilization 30 % on t3.small "
        "(2 vCPUs)" in dry.out
    )
    ec2 = boto3.client("ec2")
    assert not ec2.describe_vpcs(Filters=[{"Name": f"tag:{CLUSTER_TAG}", "Values": [NAME]}])[
        "Vpcs"
    ], "a dry run must not create anything"

    applied = escala(capsys, "update", "chatservice", NAME, *state, "--yes", "-o", "json")
    assert applied.code == 0, applied.err
    plan = json.loads(applied.out)
    assert plan["applied"] and {c["action"] for c in plan["changes"]} == {"create"}

    again = escala(capsys, "update", "chatservice", NAME, *state, "--yes")
    assert again.code == 0
    (lb,) = boto3.client("elbv2").describe_load_balancers(Names=[f"chat-{NAME}"])["LoadBalancers"]
    assert again.out.strip().split("\n") == [
        "No changes need to be applied",
        f"Chat service {NAME}: http://{lb['DNSName']}",
    ]

    # a change: more room to grow and a lower CPU target (of the core: half of it on the
    # instance's two vCPUs), applied in place
    changed = escala(capsys, "set", "chatservice", NAME, "spec.maxSize=8", "spec.cpuTarget=40",
                     *state)  # fmt: skip
    assert changed.code == 0, changed.err
    plan = json.loads(escala(capsys, "update", "chatservice", NAME, *state, "-o", "json").out)
    assert [
        (c["kind"], c["action"], [(f["field"], f["old"], f["new"]) for f in c["fields"]])
        for c in plan["changes"]
    ] == [
        ("AutoscalingGroup", "modify", [("maxSize", 5, 8)]),
        ("ScalingPolicy", "modify", [("targetValue", 30.0, 20.0)]),
    ]
    assert plan["notes"] == [
        "cpuTarget 40 % of the chat's core -> ASGAverageCPUUtilization 20 % on t3.small (2 vCPUs)"
    ]
    assert escala(capsys, "update", "chatservice", NAME, *state, "--yes").code == 0
    assert escala(capsys, "update", "chatservice", NAME, *state).out.strip() == (
        "No changes need to be applied"
    )
    fixed = escala(capsys, "set", "chatservice", NAME, "spec.platform=fargate", *state)
    assert fixed.code == 2 and "spec.ami: only for platform ec2" in fixed.err

    # the load balancer: internet-facing ALB, HTTP 80 -> sticky HTTP 3000 checked on /readyz
    elbv2 = boto3.client("elbv2")
    (lb,) = elbv2.describe_load_balancers(Names=[f"chat-{NAME}"])["LoadBalancers"]
    assert (lb["Type"], lb["Scheme"], len(lb["AvailabilityZones"])) == (
        "application", "internet-facing", 2,
    )  # fmt: skip
    (listener,) = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    (target,) = elbv2.describe_target_groups(
        TargetGroupArns=[listener["DefaultActions"][0]["TargetGroupArn"]]
    )["TargetGroups"]
    assert (listener["Protocol"], listener["Port"]) == ("HTTP", 80)
    assert (target["Protocol"], target["Port"], target["HealthCheckPath"]) == (
        "HTTP", 3000, "/readyz",
    )  # fmt: skip
    attributes = elbv2.describe_target_group_attributes(TargetGroupArn=target["TargetGroupArn"])
    values = {a["Key"]: a["Value"] for a in attributes["Attributes"]}
    assert (values["stickiness.enabled"], values["stickiness.type"]) == ("true", "lb_cookie")
    assert _owned_dict(_elbv2_tags(lb["LoadBalancerArn"]))
    assert _owned_dict(_elbv2_tags(target["TargetGroupArn"]))

    # security groups: HTTP from the world to the ALB; the chat's port from the ALB only
    groups = {
        g["GroupName"]: g
        for g in ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [lb["VpcId"]]}]
        )["SecurityGroups"]
    }
    alb, instances = groups[f"alb.{NAME}"], groups[f"instances.{NAME}"]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in alb["IpPermissions"]] == [
        (80, "0.0.0.0/0")
    ]
    (rule,) = instances["IpPermissions"]
    assert (rule["FromPort"], rule["IpRanges"]) == (3000, [])
    assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [alb["GroupId"]]
    assert _owned(alb["Tags"]) and _owned(instances["Tags"])

    # the ASG: across both zones, in the target group, ELB health checks
    (asg,) = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"chat.{NAME}"]
    )["AutoScalingGroups"]
    assert (asg["MinSize"], asg["MaxSize"], asg["HealthCheckType"]) == (2, 8, "ELB")
    assert asg["TargetGroupARNs"] == [target["TargetGroupArn"]]
    subnets = ec2.describe_subnets(SubnetIds=asg["VPCZoneIdentifier"].split(","))["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == list(ZONES)
    assert _owned(asg["Tags"])

    # the scaling policy: target tracking on the group's average CPU at the spec's 40 % of
    # one core, 20 % of the instance
    (policy,) = boto3.client("autoscaling").describe_policies(AutoScalingGroupName=f"chat.{NAME}")[
        "ScalingPolicies"
    ]
    tracking = policy["TargetTrackingConfiguration"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ASGAverageCPUUtilization"
    )
    assert tracking["TargetValue"] == 20.0

    # the launch template: IMDSv2, encrypted gp3, user-data naming parameters, never values
    (version,) = ec2.describe_launch_template_versions(
        LaunchTemplateName=f"chat.{NAME}", Versions=["$Default"]
    )["LaunchTemplateVersions"]
    data = version["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["Monitoring"] == {"Enabled": True}  # 1-minute CPU for target tracking
    ebs = data["BlockDeviceMappings"][0]["Ebs"]
    assert (ebs["VolumeType"], ebs["Encrypted"]) == ("gp3", True)
    user_data = base64.b64decode(data["UserData"]).decode()
    assert "/escala/chat/redis" in user_data
    assert not any(value in user_data for value in parameters.values())

    # the instance role reads only the service's two parameters
    iam = boto3.client("iam")
    role_policy = iam.get_role_policy(RoleName=f"instances.{NAME}", PolicyName=f"instances.{NAME}")
    statements = role_policy["PolicyDocument"]["Statement"]
    (ssm,) = [s for s in statements if "ssm:GetParameter" in s["Action"]]
    assert sorted(ssm["Resource"]) == [
        "arn:aws:ssm:eu-west-1:*:parameter/escala/chat/database",
        "arn:aws:ssm:eu-west-1:*:parameter/escala/chat/redis",
    ]
    assert _owned(iam.list_role_tags(RoleName=f"instances.{NAME}")["Tags"])

    owned = {o.kind for o in find_owned(ClientFactory(), NAME)}
    assert {
        "VPC", "Subnet", "InternetGateway", "RouteTable", "SecurityGroup", "IAMRole",
        "InstanceProfile", "LaunchTemplate", "AutoscalingGroup", "LoadBalancer", "TargetGroup",
    } <= owned  # fmt: skip

    deleted = escala(capsys, "delete", "chatservice", NAME, *state, "--yes")
    assert deleted.code == 0, deleted.err
    assert f"Deleted chat service: {NAME!r}" in deleted.out
    left = [o.key for o in find_owned(ClientFactory(), NAME) if o.kind != "Instance"]
    assert left == []
    assert leftovers(keep=frozenset(f"SSMParameter/{n}" for n in parameters)) == []
    assert escala(capsys, "get", "chatservices", *state, "-o", "json").out.strip() == "[]"


def _owned_dict(tags: dict[str, str]) -> bool:
    return OWNED.items() <= tags.items()
