"""The EC2 kinds' shared `discover`: one describe call, filtered by the ownership tags.

VPCs, subnets, gateways, route tables, security groups, volumes and key pairs differ only
in which describe call lists them, which key holds their ID and what blocks their
deletion, so each names those and inherits the rest from `Ec2Task`.
"""

from typing import Any, ClassVar

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import as_dict, is_owned, legacy_filters, owned_filters
from escala.reconcile.task import Owned, Task


class Ec2Task(Task):
    """A task whose resource an EC2 `Describe*` call lists."""

    ec2_describe: ClassVar[str]  # e.g. "describe_vpcs"
    ec2_id_key: ClassVar[str]  # e.g. "VpcId"

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        return discover_ec2(cls, cloud, cluster_name)

    @staticmethod
    def ec2_blocks(item: dict[str, Any]) -> list[str]:
        """IDs the described EC2 `item` keeps from being deleted (its VPC, say)."""
        return []

    @staticmethod
    def ec2_blocked_by(item: dict[str, Any]) -> list[str]:
        """IDs that keep the described EC2 `item` from being deleted."""
        return []

    @staticmethod
    def ec2_gone(item: dict[str, Any]) -> bool:
        """The described `item` is already deleted, though still listed (a NAT gateway
        stays visible for an hour as `deleted`)."""
        return False


def discover_ec2(task: type[Ec2Task], cloud: ClientFactory, cluster_name: str) -> list[Owned]:
    """The owned resources of an EC2 kind, with their blockers: those tagged
    `kubernetes.io/cluster/<name>=owned`, and those tagged only `KubernetesCluster=<name>`
    (what older Kubernetes AWS code wrote), found with the kind's `ec2_describe` call;
    never those tagged `shared`."""
    describe = getattr(cloud.client("ec2"), task.ec2_describe)
    found: dict[str, dict[str, Any]] = {}
    for filters in (owned_filters(cluster_name), legacy_filters(cluster_name)):
        answer = describe(Filters=filters)
        items = next(v for k, v in answer.items() if isinstance(v, list) and k != "NextToken")
        for item in items:
            if is_owned(as_dict(item.get("Tags")), cluster_name) and not task.ec2_gone(item):
                found[item[task.ec2_id_key]] = item
    return [
        Owned(
            task.kind,
            as_dict(item.get("Tags")).get("Name", item_id),
            item_id,
            task.delete_id,
            blocks=task.ec2_blocks(item),
            blocked_by=task.ec2_blocked_by(item),
        )
        for item_id, item in found.items()
    ]
