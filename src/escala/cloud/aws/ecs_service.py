"""The ECS service that keeps a chat service's Fargate tasks running behind its load
balancer.

`desiredCount` is set at creation only (to the minimum): after that Application Auto
Scaling owns it, and a later `update` leaves the live value alone, as `deploy chat`
leaves the HPA's replicas. A deployment that keeps failing is rolled back by the
deployment circuit breaker: sent with every create and update, but not compared, since
moto's ECS keeps no deploymentConfiguration to read back.
"""

import dataclasses
from typing import Any

from escala.cloud.aws.ecs_cluster import EcsCluster, ecs_tag_dict, ecs_tags, owned_clusters
from escala.cloud.aws.load_balancer import Listener, TargetGroup
from escala.cloud.aws.security_group import SecurityGroup
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.tags import is_owned
from escala.cloud.aws.task_definition import CONTAINER, TaskDefinition
from escala.reconcile.task import FieldChange, Fields, Owned, Task, ids

CIRCUIT_BREAKER = {"enable": True, "rollback": True}


@dataclasses.dataclass(eq=False, kw_only=True)
class EcsService(Task):
    kind = "ECSService"
    iam_actions = (
        "ecs:DescribeServices",
        "ecs:CreateService",
        "ecs:UpdateService",
        "ecs:DeleteService",
        "ecs:TagResource",
        "iam:CreateServiceLinkedRole",
        "iam:PassRole",
    )
    immutable = frozenset({"cluster", "launchType"})

    cluster: EcsCluster
    task_definition: TaskDefinition
    subnets: list[Subnet]
    security_groups: list[SecurityGroup]
    target_group: TargetGroup
    # The target group must be behind a listener before a service may use it.
    listener: Listener
    port: int
    desired_count: int
    health_check_grace: int = 60

    def desired(self) -> Fields:
        return {
            "cluster": self.cluster.name,
            "launchType": "FARGATE",
            "taskDefinition": f"{self.task_definition.name}:{self.task_definition.revision}",
            "subnets": sorted(s.name for s in self.subnets),
            "securityGroups": sorted(g.name for g in self.security_groups),
            "publicIp": "ENABLED",
            "loadBalancer": f"{self.target_group.name} -> {CONTAINER}:{self.port}",
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.cluster.id is None:
            return None
        answer = cloud.client("ecs").describe_services(
            cluster=self.cluster.id, services=[self.name]
        )
        active = [s for s in answer["services"] if s.get("status") == "ACTIVE"]
        if not active:
            return None
        service = active[0]
        self.id = service["serviceArn"]
        network = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
        subnet_names = {s.id: s.name for s in self.subnets}
        group_names = {g.id: g.name for g in self.security_groups}
        balancers = service.get("loadBalancers", [])
        target = balancers[0] if balancers else {}
        target_name = (
            self.target_group.name
            if target.get("targetGroupArn") == self.target_group.id
            else target.get("targetGroupArn")
        )
        return {
            "cluster": self.cluster.name,
            "launchType": service.get("launchType"),
            "taskDefinition": str(service.get("taskDefinition", "")).split("/")[-1],
            "subnets": sorted(subnet_names.get(s, s) for s in network.get("subnets", [])),
            "securityGroups": sorted(
                group_names.get(g, g) for g in network.get("securityGroups", [])
            ),
            "publicIp": network.get("assignPublicIp"),
            "loadBalancer": f"{target_name} -> {target.get('containerName')}:"
            f"{target.get('containerPort')}",
        }

    def _settings(self) -> dict[str, Any]:
        return {
            "taskDefinition": str(self.task_definition.id),
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ids(list(self.subnets)) or [],
                    "securityGroups": ids(list(self.security_groups)) or [],
                    "assignPublicIp": "ENABLED",
                }
            },
            "loadBalancers": [
                {
                    "targetGroupArn": str(self.target_group.id),
                    "containerName": CONTAINER,
                    "containerPort": self.port,
                }
            ],
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": CIRCUIT_BREAKER,
                "minimumHealthyPercent": 100,
                "maximumPercent": 200,
            },
            "healthCheckGracePeriodSeconds": self.health_check_grace,
        }

    def create(self, cloud: ClientFactory) -> None:
        service = cloud.client("ecs").create_service(
            cluster=self.cluster.id,
            serviceName=self.name,
            launchType="FARGATE",
            desiredCount=self.desired_count,
            propagateTags="SERVICE",
            tags=ecs_tags(self.tags),
            **self._settings(),
        )["service"]
        self.id = service["serviceArn"]

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        cloud.client("ecs").update_service(
            cluster=self.cluster.id, service=self.name, **self._settings()
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cluster = resource_id.split("/")[-2]  # arn:...:service/<cluster>/<service>
        cloud.client("ecs").delete_service(cluster=cluster, service=resource_id, force=True)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        ecs = cloud.client("ecs")
        found = []
        for cluster in owned_clusters(cloud, cluster_name):
            pages = ecs.get_paginator("list_services").paginate(cluster=cluster["clusterArn"])
            arns = [a for page in pages for a in page["serviceArns"]]
            for start in range(0, len(arns), 10):  # DescribeServices takes at most 10
                answer = ecs.describe_services(
                    cluster=cluster["clusterArn"], services=arns[start : start + 10],
                    include=["TAGS"],
                )  # fmt: skip
                for service in answer["services"]:
                    # A deleted service is INACTIVE: nothing is left to delete. (AWS
                    # stops listing it; moto lists it on.)
                    if service.get("status") == "INACTIVE":
                        continue
                    if not is_owned(ecs_tag_dict(service.get("tags")), cluster_name):
                        continue
                    network = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
                    blocks = [b["targetGroupArn"] for b in service.get("loadBalancers", [])]
                    blocks += network.get("subnets", []) + network.get("securityGroups", [])
                    found.append(
                        Owned(cls.kind, service["serviceName"], service["serviceArn"],
                              cls.delete_id, blocks=blocks)
                    )  # fmt: skip
        return found
