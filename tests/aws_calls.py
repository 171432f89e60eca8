"""Records the AWS requests escala sends, in order, while they still reach moto.

A botocore `before-call` hook on every client escala's ClientFactory makes: nothing is
stubbed, the request goes on over HTTP as usual. Tests use it to see what escala asked
of AWS (which IAM actions, in which order).
"""

from typing import Any, NamedTuple

import pytest

from escala.cloud.aws.session import ClientFactory


class Call(NamedTuple):
    service: str  # the signing name, mostly the IAM prefix (elasticloadbalancing, monitoring...)
    operation: str  # DescribeInstances, DeleteVpc...
    params: dict[str, Any]


def record_calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Start recording; the returned list fills as escala's clients send requests."""
    calls: list[Call] = []
    make = ClientFactory.client

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append(Call(model.service_model.signing_name, model.name, params))

    def client(self: ClientFactory, service: str) -> Any:
        made = make(self, service)
        made.meta.events.register("before-call", record, unique_id="escala-test-recorder")
        return made

    monkeypatch.setattr(ClientFactory, "client", client)
    return calls
