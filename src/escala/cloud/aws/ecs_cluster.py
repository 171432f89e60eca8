"""The ECS cluster a chat service's Fargate tasks run in (no instances: Fargate only)."""

import dataclasses
from collections.abc import Iterator
from typing import Any

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import is_owned
from escala.reconcile.task import Fields, Owned, Task


def ecs_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    """ECS spells tags `{"key", "value"}`, lower case."""
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def ecs_tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in tags or ()}


def owned_clusters(cloud: ClientFactory, owner: str) -> Iterator[dict[str, Any]]:
    """The ACTIVE ECS clusters whose tags say `owner` owns them."""
    ecs = cloud.client("ecs")
    arns = [
        a for page in ecs.get_paginator("list_clusters").paginate() for a in page["clusterArns"]
    ]
    for start in range(0, len(arns), 100):  # DescribeClusters takes at most 100
        answer = ecs.describe_clusters(clusters=arns[start : start + 100], include=["TAGS"])
        for cluster in answer["clusters"]:
            if cluster.get("status") == "ACTIVE" and is_owned(
                ecs_tag_dict(cluster.get("tags")), owner
            ):
                yield cluster


@dataclasses.dataclass(eq=False, kw_only=True)
class EcsCluster(Task):
    kind = "ECSCluster"
    iam_actions = (
        "ecs:ListClusters",
        "ecs:DescribeClusters",
        "ecs:CreateCluster",
        "ecs:TagResource",
        "ecs:ListServices",
        "ecs:DeleteCluster",
    )

    def desired(self) -> Fields:
        return {"capacityProviders": ["FARGATE"]}

    def find(self, cloud: ClientFactory) -> Fields | None:
        answer = cloud.client("ecs").describe_clusters(clusters=[self.name])
        active = [c for c in answer["clusters"] if c.get("status") == "ACTIVE"]
        if not active:
            return None
        self.id = active[0]["clusterArn"]
        return {"capacityProviders": active[0].get("capacityProviders") or ["FARGATE"]}

    def create(self, cloud: ClientFactory) -> None:
        cluster = cloud.client("ecs").create_cluster(
            clusterName=self.name, capacityProviders=["FARGATE"], tags=ecs_tags(self.tags)
        )["cluster"]
        self.id = cluster["clusterArn"]

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ecs").delete_cluster(cluster=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        ecs = cloud.client("ecs")
        found = []
        for cluster in owned_clusters(cloud, cluster_name):
            arn = cluster["clusterArn"]
            services = [
                s
                for page in ecs.get_paginator("list_services").paginate(cluster=arn)
                for s in page["serviceArns"]
            ]
            found.append(Owned(cls.kind, cluster["clusterName"], arn, cls.delete_id,
                               blocked_by=services))  # fmt: skip
        return found
