"""The deletion loop on its own: dependency order and retrying while progress is made.

The resources here are plain `Owned` records whose delete functions record calls and
answer the AWS errors a real account gives (as botocore ClientErrors).
"""

import pytest
from botocore.exceptions import ClientError

from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError
from escala.reconcile.deletion import delete_owned
from escala.reconcile.task import Owned


class Account:
    """Which resources are gone, and which refuse deletion how many more times."""

    def __init__(
        self, in_use: dict[str, int] | None = None, code: str = "DependencyViolation"
    ) -> None:
        self.deleted: list[str] = []
        self.in_use = dict(in_use or {})
        self.code = code

    def delete(self, _: ClientFactory, resource_id: str) -> None:
        if self.in_use.get(resource_id, 0) > 0:
            self.in_use[resource_id] -= 1
            raise ClientError({"Error": {"Code": self.code, "Message": "in use"}}, "Delete")
        self.deleted.append(resource_id)


def _owned(account: Account, kind: str, rid: str, **links: list[str]) -> Owned:
    return Owned(kind, rid, rid, account.delete, **links)


CLOUD = None  # the delete functions above never use it


def test_blockers_go_first():
    account = Account()
    resources = [
        _owned(account, "VPC", "vpc-1"),
        _owned(account, "Subnet", "subnet-1", blocks=["vpc-1"]),
        _owned(account, "Volume", "vol-1", blocked_by=["i-1"]),
        _owned(account, "Instance", "i-1", blocks=["subnet-1"]),
    ]
    delete_owned(CLOUD, resources, sleep=lambda _: None)  # type: ignore[arg-type]
    order = account.deleted
    assert order.index("i-1") < order.index("subnet-1") < order.index("vpc-1")
    assert order.index("i-1") < order.index("vol-1")


def test_still_in_use_is_retried_while_others_make_progress():
    account = Account(in_use={"sg-1": 3})
    resources = [_owned(account, "SecurityGroup", "sg-1"), _owned(account, "VPC", "vpc-2")]
    delete_owned(CLOUD, resources, sleep=lambda _: None)  # type: ignore[arg-type]
    assert sorted(account.deleted) == ["sg-1", "vpc-2"]


def test_no_progress_past_the_deadline_names_what_is_left():
    account = Account(in_use={"sg-1": 10**6})
    with pytest.raises(CloudError, match=r"SecurityGroup/sg-1 \(DependencyViolation\)"):
        delete_owned(
            CLOUD,  # type: ignore[arg-type]
            [_owned(account, "SecurityGroup", "sg-1")],
            deadline=0.0,
            sleep=lambda _: None,
        )


@pytest.mark.parametrize(
    "code", ["ClusterContainsServicesException", "ClusterContainsTasksException"]
)
def test_an_ecs_cluster_is_retried_while_its_deleted_service_drains(code):
    """DeleteService leaves the service DRAINING and its tasks stopping for a while;
    DeleteCluster refuses until they are gone."""
    account = Account(in_use={"cluster-1": 2}, code=code)
    resources = [
        _owned(account, "ECSService", "service-1"),
        _owned(account, "ECSCluster", "cluster-1", blocked_by=["service-1"]),
    ]
    delete_owned(CLOUD, resources, sleep=lambda _: None)  # type: ignore[arg-type]
    assert account.deleted == ["service-1", "cluster-1"]
