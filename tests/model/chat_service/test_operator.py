"""The operator policy grants every AWS call the chat-service commands make: their whole
life is run against moto, each request recorded (tests/aws_calls.py) and looked up, as
its IAM action, in `escala iam create-operator`'s policy."""

import pytest

from escala.ops.iam_operator import operator_actions
from tests.aws_calls import Call, record_calls
from tests.cli.run import escala
from tests.model.chat_service.specs import EC2_FLAGS, FARGATE_FLAGS, NAME
from tests.ops.test_operator_covers_commands import NEEDS_NO_PERMISSION, iam_action


@pytest.fixture
def called(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    return record_calls(monkeypatch)


@pytest.mark.parametrize("flags", [EC2_FLAGS, FARGATE_FLAGS], ids=["ec2", "fargate"])
def test_every_call_of_the_chatservice_commands_is_granted_to_the_operator(
    aws, state, parameters, capsys, called, flags
):
    for args in (
        ("create", "chatservice", NAME, *flags, "--yes"),
        ("get", "chatservices"),
        ("update", "chatservice", NAME),
        ("delete", "chatservice", NAME, "--yes"),
    ):
        result = escala(capsys, *args, *state)
        assert result.code == 0, (args, result.err)
    actions = {iam_action(c) for c in called}
    assert "ssm:DescribeParameters" in actions
    missing = sorted(actions - NEEDS_NO_PERMISSION - set(operator_actions()))
    assert not missing, f"the operator policy lacks {missing}"
