"""The sandbox's IAM evaluation (`escala sandbox --enforce-iam`) follows AWS's documented
policy logic; pure, no server (tests/ops/test_operator_enforced.py runs it for real)."""

from escala.cli.sandbox_iam import Request, Resource, allowed, implied_tagging, request_tags

OWNED = {"StringLike": {"aws:ResourceTag/KubernetesCluster": "prod-*"}}


def _policy(*statements: dict) -> list[dict]:  # type: ignore[type-arg]
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def _allow(action: str, resource: object = "*", **condition: object) -> dict:  # type: ignore[type-arg]
    return {"Effect": "Allow", "Action": action, "Resource": resource, **condition}


def test_resource_tags_decide_and_every_resource_needs_an_allow() -> None:
    policy = _policy(_allow("ec2:TerminateInstances", Condition=OWNED))
    mine = Resource("arn:aws:ec2:r:1:instance/i-1", {"KubernetesCluster": "prod-a"})
    theirs = Resource("arn:aws:ec2:r:1:instance/i-2", {})
    assert allowed(policy, "ec2:TerminateInstances", Request([mine]))[0]
    assert allowed(policy, "ec2:TerminateInstances", Request([mine, theirs])) == (
        False,
        theirs.arn,
    )
    assert not allowed(policy, "ec2:StopInstances", Request([mine]))[0]


def test_an_explicit_deny_wins() -> None:
    deny = {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}
    assert not allowed(_policy(_allow("*"), deny), "ec2:DeleteVpc", Request())[0]


def test_request_tags_and_tag_keys() -> None:
    condition = {
        "StringLike": {"aws:RequestTag/KubernetesCluster": "*"},
        "ForAllValues:StringLike": {"aws:TagKeys": ["KubernetesCluster", "Name"]},
    }
    policy = _policy(_allow("ec2:CreateVpc", Condition=condition))
    assert allowed(policy, "ec2:CreateVpc", Request(tags={"KubernetesCluster": "a"}))[0]
    assert not allowed(policy, "ec2:CreateVpc", Request())[0]  # untagged
    assert not allowed(
        policy, "ec2:CreateVpc", Request(tags={"KubernetesCluster": "a", "cost": "x"})
    )[0]


def test_unknown_operators_fail_closed_and_names_match_as_globs() -> None:
    odd = _allow("iam:DeleteRole", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020"}})
    assert not allowed(_policy(odd), "iam:DeleteRole", Request())[0]
    named = _policy(_allow("iam:DeleteRole", ["arn:aws:iam::*:role/masters.*"]))
    assert allowed(named, "iam:DeleteRole", Request([Resource("arn:aws:iam::1:role/masters.c")]))[0]
    assert not allowed(named, "iam:DeleteRole", Request([Resource("arn:aws:iam::1:role/x")]))[0]
    assert not allowed(named, "iam:DeleteRole", Request())[0]  # no resource: only "*" fits


def test_a_create_with_tags_is_also_a_tagging_request() -> None:
    params = {
        "TagSpecification.1.ResourceType": "vpc",
        "TagSpecification.1.Tag.1.Key": "KubernetesCluster",
        "TagSpecification.1.Tag.1.Value": "c",
        "LaunchTemplateData.TagSpecification.1.Tag.1.Key": "launched",
    }
    request = Request(tags=request_tags(params))
    assert request.tags == {"KubernetesCluster": "c"}
    action, tagging = implied_tagging("ec2", "CreateVpc", request)  # type: ignore[misc]
    assert action == "ec2:CreateTags"
    assert tagging.context["ec2:CreateAction"] == ["CreateVpc"]
    assert implied_tagging("ec2", "CreateVpc", Request()) is None
    assert implied_tagging("ec2", "CreateTags", request) is None
