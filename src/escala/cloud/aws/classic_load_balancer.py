"""Classic ELBs that Kubernetes' in-tree AWS code creates for `type: LoadBalancer`
Services. escala never creates one; `delete cluster` finds and deletes those tagged
as the cluster's, before the VPC they sit in.
"""

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import as_dict, is_owned
from escala.cloud.aws.task import Owned


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
        names = list(balancers)
        found = []
        for start in range(0, len(names), 20):
            answer = elb.describe_tags(LoadBalancerNames=names[start : start + 20])
            for description in answer["TagDescriptions"]:
                if not is_owned(as_dict(description.get("Tags")), cluster_name):
                    continue
                lb = balancers[description["LoadBalancerName"]]
                blocks = lb.get("Subnets", []) + lb.get("SecurityGroups", []) + [lb.get("VPCId")]
                found.append(
                    Owned(
                        cls.kind,
                        lb["LoadBalancerName"],
                        lb["LoadBalancerName"],
                        cls.delete_id,
                        blocks=[b for b in blocks if b],
                    )
                )
        return found
