"""Deletes sent again after their first answer was lost (botocore resends a call whose
connection dropped) meet a resource already gone: that is a delete done, not a failure
(found by benchmarks/faults.py)."""

from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.session import ClientFactory
from escala.reconcile.deletion import delete_owned
from escala.reconcile.task import Owned


def test_deleting_an_auto_scaling_group_already_gone_succeeds(aws: str) -> None:
    gone = Owned("AutoscalingGroup", "nodes.x.k8s.local", "nodes.x.k8s.local",
                 AutoscalingGroup.delete_id)  # fmt: skip
    delete_owned(ClientFactory(), [gone], sleep=lambda _: None)
