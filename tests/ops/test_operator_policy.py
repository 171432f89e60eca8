"""The operator's policies scope every write to what escala owns (no AWS needed)."""

from typing import Any

from escala.ops.iam_operator import operator_actions
from escala.ops.operator_policy import UNSCOPED, policy_documents

TAGGED_SERVICES = ("ec2", "elasticloadbalancing", "autoscaling", "ecs", "ecr")


def _statements(owner: str = "*", bucket: str | None = "state") -> list[dict[str, Any]]:
    return [s for d in policy_documents(owner, bucket).values() for s in d["Statement"]]


def _granting(action: str, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if action in s["Action"]]


def test_every_action_escala_calls_is_granted() -> None:
    granted = {a for s in _statements() for a in s["Action"]}
    assert granted == set(operator_actions())


def test_writes_on_tagged_services_need_the_ownership_tag() -> None:
    statements = _statements(owner="prod-*")
    for action in operator_actions():
        service, verb = action.split(":")
        if service not in TAGGED_SERVICES or verb.startswith(("Describe", "List", "Get", "Batch")):
            continue
        for granted in _granting(action, statements):
            if action in UNSCOPED:
                assert granted["Resource"] == "*"
                continue
            tags = {**granted["Condition"]["StringLike"]}
            assert "prod-*" in (
                tags.get("aws:ResourceTag/KubernetesCluster"),
                tags.get("aws:RequestTag/KubernetesCluster"),
            ), (action, granted)


def test_terminate_and_delete_need_an_owned_resource() -> None:
    for action in ("ec2:TerminateInstances", "ec2:DeleteVpc", "autoscaling:DeleteAutoScalingGroup",
                   "elasticloadbalancing:DeleteLoadBalancer", "ecs:DeleteService"):  # fmt: skip
        (granted,) = _granting(action, _statements(owner="prod-*"))
        assert granted["Condition"] == {
            "StringLike": {"aws:ResourceTag/KubernetesCluster": "prod-*"}
        }


def test_create_tags_only_while_creating_or_on_owned_resources() -> None:
    grants = _granting("ec2:CreateTags", _statements())
    during, retag = sorted(grants, key=lambda s: "StringEquals" not in s["Condition"])
    assert "RunInstances" in during["Condition"]["StringEquals"]["ec2:CreateAction"]
    assert "CreateVpc" in during["Condition"]["StringEquals"]["ec2:CreateAction"]
    assert retag["Condition"]["StringLike"]["aws:ResourceTag/KubernetesCluster"] == "*"
    for granted in grants:  # never without escala's tag, never with foreign keys
        assert granted["Condition"]["StringLike"]["aws:RequestTag/KubernetesCluster"] == "*"
        assert "ForAllValues:StringLike" in granted["Condition"]


def test_roles_by_name_and_state_by_bucket() -> None:
    statements = _statements(owner="prod-*", bucket="proyecto-state")
    (delete_role,) = _granting("iam:DeleteRole", statements)
    assert "arn:aws:iam::*:role/masters.prod-*" in delete_role["Resource"]
    prefixes = ("masters.", "nodes.", "bastions.", "instances.", "task-execution.")
    assert all(r.split("/")[1].startswith(prefixes) for r in delete_role["Resource"])
    (put,) = _granting("s3:PutObject", statements)
    assert put["Resource"] == ["arn:aws:s3:::proyecto-state", "arn:aws:s3:::proyecto-state/*"]
    (passing,) = _granting("iam:PassRole", statements)
    assert passing["Condition"]["StringEquals"]["iam:PassedToService"]


def test_the_tables_name_only_actions_escala_calls() -> None:
    from escala.ops.operator_policy import TAG_ON_CREATE

    called = set(operator_actions())
    assert set(UNSCOPED) <= called
    for action, (_, during) in TAG_ON_CREATE.items():
        assert action in called and set(during) <= called, action


def test_log_groups_by_the_chat_services_names() -> None:
    (create,) = _granting("logs:CreateLogGroup", _statements(owner="prod-*"))
    assert create["Resource"] == [
        "arn:aws:logs:*:*:log-group:/escala/chat/prod-*",
        "arn:aws:logs:*:*:log-group:/escala/chat/prod-*:*",
    ]
