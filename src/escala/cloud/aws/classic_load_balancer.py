"""Classic ELBs that Kubernetes' in-tree AWS code creates for `type: LoadBalancer`
Services. escala never creates one; `delete cluster` finds and deletes those tagged
as the cluster's, before the VPC they sit in.
"""

from collections.abc import Iterator
from typing import Any

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import owned_by_tags
from escala.reconcile.task import Owned


class ClassicLoadBalancer:
    kind = "ClassicLoadBalancer"
    iam_actions = (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DeleteLoadBalancer",
    )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("elb").delete_load_balancer(LoadBalancerName=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        elb = cloud.client("elb")
        pages = elb.get_paginator("describe_load_balancers").paginate()
        balancers = {
            lb["LoadBalancerName"]: lb for p in pages for lb in p["LoadBalancerDescriptions"]
        }

        def read_tags(names: list[str]) -> Iterator[tuple[str, Any]]:
            answer = elb.describe_tags(LoadBalancerNames=names)["TagDescriptions"]
            return ((d["LoadBalancerName"], d.get("Tags")) for d in answer)

        return [
            Owned(
                cls.kind,
                lb["LoadBalancerName"],
                lb["LoadBalancerName"],
                cls.delete_id,
                blocks=[
                    b
                    for b in (
                        *lb.get("Subnets", []),
                        *lb.get("SecurityGroups", []),
                        lb.get("VPCId"),
                    )
                    if b
                ],
            )
            for lb in owned_by_tags(balancers, read_tags, cluster_name)
        ]
