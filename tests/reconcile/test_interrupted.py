"""An apply killed halfway is finished by the next run.

The interruption is real: the clients are real boto3 clients talking to the moto
server, and botocore's own event hook aborts one API call partway through the apply,
the way a killed process would stop there.
"""

from typing import Any

import boto3
import pytest

from escala.cloud.aws.registry import find_owned
from escala.cloud.aws.session import ClientFactory
from escala.ops.delete_cluster import delete_cluster
from escala.ops.update import update_cluster
from escala.reconcile.plan import Action
from tests.reconcile.specs import NAME


class Killed(Exception):
    """Stands for the process dying at this call."""


class DyingClients(ClientFactory):
    """Real clients, except that the `survive`+1-th call of `operation` kills the run."""

    def __init__(self, service: str, operation: str, survive: int) -> None:
        super().__init__()
        self.calls = 0
        self.survive = survive
        self.client(service).meta.events.register(f"before-call.{service}.{operation}", self._die)

    def _die(self, **_: Any) -> None:
        self.calls += 1
        if self.calls > self.survive:
            raise Killed


def test_an_apply_killed_midway_is_completed_by_the_next_run(store, aws):
    dying = DyingClients("autoscaling", "CreateAutoScalingGroup", survive=2)
    with pytest.raises(Killed):
        update_cluster(store, NAME, dying, yes=True)
    created = boto3.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    assert len(created) == 2, "the run died after two of the four groups"

    resumed = update_cluster(store, NAME, ClientFactory(), yes=True)
    assert {c.action for c in resumed.changes} == {Action.create}
    assert sorted(c.kind for c in resumed.changes) == [
        "AutoscalingGroup",
        "AutoscalingGroup",
        "Listener",
    ]
    assert update_cluster(store, NAME, ClientFactory(), yes=False).empty


def test_a_delete_killed_midway_is_finished_by_running_it_again(store, aws):
    update_cluster(store, NAME, ClientFactory(), yes=True)
    dying = DyingClients("ec2", "DeleteSubnet", survive=1)
    with pytest.raises(Killed):
        delete_cluster(store, NAME, dying, yes=True)
    assert store.has_cluster(NAME), "the state store entry goes last"

    plan = delete_cluster(store, NAME, ClientFactory(), yes=True)
    subnets_left = [c for c in plan.changes if c.kind == "Subnet"]
    assert len(subnets_left) == 2 and f"VPC/{NAME}" in {c.key for c in plan.changes}
    assert find_owned(ClientFactory(), NAME) == [] and not store.has_cluster(NAME)
