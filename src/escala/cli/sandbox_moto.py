"""Where moto (5.2) answers differently from AWS in ways escala's commands meet, the
sandbox answers as AWS documents it. Each patch is small, names the AWS behaviour it
restores, and runs only inside the sandbox's own process (`escala sandbox`, which the
test suite also runs).

- Application Auto Scaling `DescribeScalingPolicies` ignores `PolicyNames` in moto, so
  asking for one policy of a target with two returned both.
- Application Auto Scaling `DescribeScalingActivities` is not implemented in moto. The
  sandbox answers with the activities of the target, which it never has (nothing scales
  in moto), as AWS answers for a target that has not scaled yet.
- Auto Scaling `DescribeScalingActivities` always answers an empty list in moto. The
  sandbox records, as AWS does, an activity for each instance launched or terminated
  when a group's desired capacity changes (creation, UpdateAutoScalingGroup,
  SetDesiredCapacity), with AWS's cause text, and answers them newest first.
- EC2 `CreateLaunchTemplateVersion` with UserData made every later launch from that
  version answer HTTP 500 (see `_parse_user_data_of_new_versions`).
- EC2 `AuthorizeSecurityGroupIngress` of a protocol without ports (calico's IP-in-IP,
  protocol 4) answered HTTP 500 (see `_rules_of_protocols_without_ports`).
- Application Auto Scaling `PutScalingPolicy` on an existing target-tracking policy left
  the old policy's two alarms behind for good (see `_replace_target_tracking_alarms`).
- Auto Scaling `DeleteAutoScalingGroup` left the group's scaling policies (see
  `_delete_group_policies_with_the_group`).
- EC2 `CreateRouteTable` and `CreateVolume` ignored `ClientToken`, so a call botocore
  resent made a second resource (see `_honour_client_tokens`).
- CloudWatch Logs extracts metrics from log events in the embedded metric format (EMF)
  that reach it through PutLogEvents (what the awslogs driver calls); moto stores them as
  plain text. The sandbox turns each EMF event into the datapoints AWS would, so the
  chat's own metric (escala.chat.cloudwatch) can be read back with GetMetricData.

`patch_moto()` runs once, in the sandbox's process, before its server starts.

`escala sandbox --enforce-iam` adds one more, opt-in: IAM policies evaluated as AWS
evaluates them (resource tags, request tags, tag on create), escala.cli.sandbox_iam.
"""

import json
from datetime import UTC, datetime
from typing import Any

Datum = tuple[str, dict[str, Any]]  # (namespace, one PutMetricData member)

ACTIVITIES = "_escala_activities"


def _record(group: Any, old: int | None, new: int, before: set[str], after: set[str]) -> None:
    """An activity per instance started or stopped, worded as AWS words them; `old` is
    None when the group is being created."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if old is None:
        request = (
            f"At {stamp} a user request created an AutoScalingGroup changing the desired "
            f"capacity from 0 to {new}."
        )
    else:
        request = (
            f"At {stamp} a user request update of AutoScalingGroup constraints to min: "
            f"{group.min_size}, max: {group.max_size}, desired: {new} changing the desired "
            f"capacity from {old} to {new}."
        )
    started, stopped = sorted(after - before), sorted(before - after)
    entries = [("Launching a new EC2 instance", i, "increasing", len(before), len(after))
               for i in started]  # fmt: skip
    entries += [("Terminating EC2 instance", i, "shrinking", len(before), len(after))
                for i in stopped]  # fmt: skip
    for description, instance, direction, low, high in entries:
        verb = "started" if direction == "increasing" else "taken out of service"
        getattr(group, ACTIVITIES).append(
            {
                "ActivityId": f"{instance}-{len(getattr(group, ACTIVITIES))}",
                "AutoScalingGroupName": group.name,
                "Description": f"{description}: {instance}",
                "Cause": f"{request} At {stamp} an instance was {verb} in response to a "
                f"difference between desired and actual capacity, {direction} the capacity "
                f"from {low} to {high}.",
                "StartTime": now,
                "EndTime": now,
                "StatusCode": "Successful",
                "Progress": 100,
            }
        )


def emf_datapoints(message: str) -> list[Datum]:
    """The datapoints one EMF log event stands for (none when it is not EMF), following
    CloudWatch's specification: each directive's namespace, each dimension set, each
    metric's value (a number or a list) at `_aws.Timestamp` (milliseconds)."""
    try:
        document = json.loads(message)
    except ValueError:
        return []
    meta = document.get("_aws") if isinstance(document, dict) else None
    if not isinstance(meta, dict):
        return []
    # naive UTC, as moto keeps its own datapoints' times
    when = datetime.fromtimestamp(meta.get("Timestamp", 0) / 1000, UTC).replace(tzinfo=None)
    out = []
    for directive in meta.get("CloudWatchMetrics", []):
        for names in directive.get("Dimensions", [[]]):
            dimensions = [{"Name": n, "Value": str(document[n])} for n in names]
            for metric in directive.get("Metrics", []):
                value = document.get(metric["Name"])
                values = value if isinstance(value, list) else [value]
                out += [
                    (
                        directive["Namespace"],
                        {
                            "MetricName": metric["Name"],
                            "Dimensions": dimensions,
                            "Timestamp": when,
                            "Value": float(v),
                            "Unit": metric.get("Unit"),
                        },
                    )
                    for v in values
                    if isinstance(v, int | float)
                ]
    return out


def _parse_user_data_of_new_versions() -> None:
    """CreateLaunchTemplateVersion with UserData made every later launch answer 500.

    moto 5.2.5 (since getmoto/moto#9510, "EC2: improve UserData handling") keeps
    UserData as a `Base64EncodedString` and asserts so wherever an instance is launched
    from a template version. CreateLaunchTemplate, CloudFormation and RunInstances parse
    it on the way in; the CreateLaunchTemplateVersion handler does not, so the version
    stores a plain `str`, and the first Auto Scaling launch from it (a rolling update's
    replacement) trips the assertion: HTTP 500. The fix parses a plain string the way
    the other entry points do (invalid base64 -> InvalidUserData.Malformed, as AWS).
    """
    from moto.ec2.models.launch_templates import LaunchTemplate
    from moto.ec2.utils import parse_user_data

    create_version = LaunchTemplate.create_version

    def create_version_parsing_user_data(
        self: LaunchTemplate, data: dict[str, Any], description: str
    ) -> Any:
        if isinstance(data.get("UserData"), str):
            data = {**data, "UserData": parse_user_data(data["UserData"])}
        return create_version(self, data, description)

    LaunchTemplate.create_version = create_version_parsing_user_data  # type: ignore[method-assign]


# The protocols whose rules have ports, by name and by number (tcp, udp, icmp, icmpv6);
# -1 (all) has none, and moto knows it.
PORTED_PROTOCOLS = frozenset({"tcp", "udp", "icmp", "icmpv6", "6", "17", "1", "58", "-1"})


def _rules_of_protocols_without_ports() -> None:
    """AuthorizeSecurityGroupIngress answered 500 for calico's IP-in-IP rule.

    moto 5.2.5 (models/security_groups.py, `SecurityGroupRule.__init__`) reads FromPort
    and ToPort with `int()` for every protocol but -1, so a rule of protocol 4 given
    without ports, as escala opens IP-in-IP between calico nodes, fails with `int(None)`.
    AWS documents that a protocol other than tcp, udp, icmp or icmpv6 allows every port
    whatever ports are given; the fix stores such a rule without ports, and
    DescribeSecurityGroups shows it without FromPort/ToPort, as AWS does. (getmoto/moto#597
    made rules without ports work for -1 only.)
    """
    from moto.ec2.models.security_groups import SecurityGroupRule

    rule_init = SecurityGroupRule.__init__

    def rule_of_any_protocol(
        self: SecurityGroupRule,
        backend: Any,
        protocol: str,
        group_id: str,
        from_port: Any,
        to_port: Any,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        portless = str(protocol).lower() not in PORTED_PROTOCOLS and from_port is None
        ports = (0, 0) if portless else (from_port, to_port)
        rule_init(self, backend, protocol, group_id, *ports, *args, **kwargs)
        if portless:
            self.from_port = self.to_port = None

    SecurityGroupRule.__init__ = rule_of_any_protocol  # type: ignore[method-assign]


def _replace_target_tracking_alarms() -> None:
    """Updating a target-tracking policy left its two alarms behind for good.

    moto 5.2.5's Application Auto Scaling PutScalingPolicy, for a policy that exists,
    builds a new policy with two new CloudWatch alarms and drops the old one without
    deleting its alarms, so `delete chatservice` (DeleteScalingPolicy, which deletes the
    alarms it knows) left the first two: the "Fargate leaves 2 alarms" of issue 17,
    seen once the service's cpuTarget had changed. AWS creates and manages a target
    tracking policy's alarms itself and deletes them with the policy
    (https://docs.aws.amazon.com/autoscaling/application/userguide/delete-target-tracking-policy.html).
    The fix deletes the replaced policy's alarms.
    """
    from moto.applicationautoscaling.models import (
        ApplicationAutoscalingBackend,
        FakeApplicationAutoscalingPolicy,
    )

    put = ApplicationAutoscalingBackend.put_scaling_policy
    if getattr(put, "escala_patched", False):
        return

    def put_replacing_alarms(
        self: ApplicationAutoscalingBackend,
        policy_name: str,
        service_namespace: str,
        resource_id: str,
        scalable_dimension: str,
        policy_body: dict[str, Any],
        policy_type: str | None,
    ) -> Any:
        key = FakeApplicationAutoscalingPolicy.formulate_key(
            service_namespace, resource_id, scalable_dimension, policy_name
        )
        old = self.policies.get(key)
        policy = put(self, policy_name, service_namespace, resource_id, scalable_dimension,
                     policy_body, policy_type)  # fmt: skip
        if old is not None and old is not policy:
            old.delete_alarms(self.account_id, self.region_name)
        return policy

    put_replacing_alarms.escala_patched = True  # type: ignore[attr-defined]
    ApplicationAutoscalingBackend.put_scaling_policy = put_replacing_alarms  # type: ignore[method-assign]


def _delete_group_policies_with_the_group() -> None:
    """A deleted Auto Scaling group's scaling policies stayed, listed by DescribePolicies.

    moto 5.2.5's DeleteAutoScalingGroup removes the group only; AWS deletes its policies
    with it ("If the group has scaling policies, deleting the group deletes the policies",
    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html),
    so after `delete chatservice --platform ec2` the account still showed `cpu-target.chat`.
    """
    from moto.autoscaling.models import AutoScalingBackend

    delete = AutoScalingBackend.delete_auto_scaling_group
    if getattr(delete, "escala_patched", False):
        return

    def delete_with_policies(self: AutoScalingBackend, group_name: str) -> None:
        delete(self, group_name)
        for name, policy in list(self.policies.items()):
            if policy.auto_scaling_group_name == group_name:
                del self.policies[name]

    delete_with_policies.escala_patched = True  # type: ignore[attr-defined]
    AutoScalingBackend.delete_auto_scaling_group = delete_with_policies  # type: ignore[method-assign]


def _honour_client_tokens() -> None:
    """A resent CreateRouteTable or CreateVolume made a second route table or volume.

    botocore fills these calls' `ClientToken` itself and sends the same token again when
    it retries (an answer lost to a dropped connection); AWS then answers with the first
    call's resource ("Unique, case-sensitive identifier that you provide to ensure the
    idempotency of the request", CreateRouteTable's ClientToken,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Run_Instance_Idempotency.html).
    moto 5.2.5 ignores the token, so the fault campaign found a chat service with two
    route tables named alike, the subnets in one and the plan forever asking to associate
    them with the other. The patch answers a repeated token with the first answer.
    """
    from moto.ec2.responses.elastic_block_store import ElasticBlockStore
    from moto.ec2.responses.route_tables import RouteTables

    for cls, name in ((RouteTables, "create_route_table"), (ElasticBlockStore, "create_volume")):
        original = getattr(cls, name)
        if not getattr(original, "escala_patched", False):
            setattr(cls, name, _idempotent(original, name))


def _idempotent(original: Any, name: str) -> Any:
    def answer_once(self: Any) -> Any:
        token = self._get_param("ClientToken")
        if not token:
            return original(self)
        answers = self.ec2_backend.__dict__.setdefault("_escala_client_tokens", {})
        if (name, token) not in answers:
            answers[(name, token)] = original(self)
        return answers[(name, token)]

    answer_once.escala_patched = True  # type: ignore[attr-defined]
    return answer_once


def patch_moto() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.autoscaling.models import FakeAutoScalingGroup
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.responses import ActionResult
    from moto.logs.models import LogsBackend

    describe_policies = ApplicationAutoScalingResponse.describe_scaling_policies

    def describe_scaling_policies(self: Any) -> str:
        answer = json.loads(describe_policies(self))
        names = self._get_param("PolicyNames")
        if names:
            answer["ScalingPolicies"] = [
                p for p in answer["ScalingPolicies"] if p["PolicyName"] in names
            ]
        return json.dumps(answer)

    def describe_target_activities(self: Any) -> str:
        return json.dumps({"ScalingActivities": []})

    set_desired = FakeAutoScalingGroup.set_desired_capacity

    def set_desired_capacity(self: Any, new_capacity: int | None) -> None:
        if not hasattr(self, ACTIVITIES):
            setattr(self, ACTIVITIES, [])
        old = getattr(self, "desired_capacity", None)  # not there yet while creating
        before = {s.instance.id for s in self.active_instances()}
        set_desired(self, new_capacity)
        after = {s.instance.id for s in self.active_instances()}
        _record(self, old, self.desired_capacity or 0, before, after)

    def describe_group_activities(self: Any) -> ActionResult:
        name = self._get_param("AutoScalingGroupName")
        groups = self.autoscaling_backend.autoscaling_groups
        found = [g for n, g in groups.items() if name in (None, n)]
        activities = [a for g in found for a in getattr(g, ACTIVITIES, [])]
        activities.sort(key=lambda a: a["StartTime"], reverse=True)
        limit = int(self._get_param("MaxRecords") or 100)
        return ActionResult({"Activities": activities[:limit]})

    put_log_events = LogsBackend.put_log_events

    def put_log_events_with_emf(
        self: Any, log_group_name: str, log_stream_name: str, log_events: list[dict[str, Any]]
    ) -> Any:
        answer = put_log_events(self, log_group_name, log_stream_name, log_events)
        cloudwatch = cloudwatch_backends[self.account_id][self.region_name]
        for event in log_events:
            for namespace, datum in emf_datapoints(str(event.get("message", ""))):
                cloudwatch.put_metric_data(namespace, [datum])
        return answer

    _parse_user_data_of_new_versions()
    _rules_of_protocols_without_ports()
    _replace_target_tracking_alarms()
    _delete_group_policies_with_the_group()
    _honour_client_tokens()
    LogsBackend.put_log_events = put_log_events_with_emf
    ApplicationAutoScalingResponse.describe_scaling_policies = describe_scaling_policies
    ApplicationAutoScalingResponse.describe_scaling_activities = describe_target_activities
    FakeAutoScalingGroup.set_desired_capacity = set_desired_capacity
    AutoScalingResponse.describe_scaling_activities = describe_group_activities
