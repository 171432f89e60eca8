"""Fixes to moto, the sandbox's AWS emulator, where it answers differently from AWS.

Each patch is minimal, names the moto version it was written against and the upstream
change that caused it, and is a no-op once moto does the right thing itself, so upgrading
moto never breaks the sandbox. `apply()` runs when `escala sandbox` starts, in the same
process as moto's server; the test suite runs that same sandbox, so tests meet the
emulator users get.
"""

from typing import Any


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
    if getattr(create_version, "escala_patched", False):
        return

    def create_version_parsing_user_data(
        self: LaunchTemplate, data: dict[str, Any], description: str
    ) -> Any:
        if isinstance(data.get("UserData"), str):
            data = {**data, "UserData": parse_user_data(data["UserData"])}
        return create_version(self, data, description)

    create_version_parsing_user_data.escala_patched = True  # type: ignore[attr-defined]
    LaunchTemplate.create_version = create_version_parsing_user_data  # type: ignore[method-assign]


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


def apply() -> None:
    """Apply every patch (idempotent)."""
    _parse_user_data_of_new_versions()
    _replace_target_tracking_alarms()
    _delete_group_policies_with_the_group()
    _honour_client_tokens()
