"""The CloudWatch Logs group a chat service's Fargate tasks write to (awslogs driver)."""

import dataclasses

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import is_owned
from escala.reconcile.task import FieldChange, Fields, Owned, Task

# Where escala's log groups live; discovery looks only under it.
PREFIX = "/escala/"


def _arn(group: dict[str, object]) -> str:
    """DescribeLogGroups' `arn` ends in `:*`; the tagging API wants it without."""
    return str(group["arn"]).removesuffix(":*")


@dataclasses.dataclass(eq=False, kw_only=True)
class LogGroup(Task):
    kind = "LogGroup"
    iam_actions = (
        "logs:DescribeLogGroups",
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:TagResource",
        "logs:ListTagsForResource",
        "logs:DeleteLogGroup",
    )

    retention_days: int = 14

    def desired(self) -> Fields:
        return {"retentionDays": self.retention_days}

    def find(self, cloud: ClientFactory) -> Fields | None:
        groups = cloud.client("logs").describe_log_groups(logGroupNamePrefix=self.name)
        group = next((g for g in groups["logGroups"] if g["logGroupName"] == self.name), None)
        if group is None:
            return None
        self.id = self.name
        return {"retentionDays": group.get("retentionInDays")}

    def create(self, cloud: ClientFactory) -> None:
        cloud.client("logs").create_log_group(logGroupName=self.name, tags=self.tags)
        self.id = self.name
        self.update(cloud, [])

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        cloud.client("logs").put_retention_policy(
            logGroupName=self.name, retentionInDays=self.retention_days
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("logs").delete_log_group(logGroupName=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        logs = cloud.client("logs")
        found = []
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=PREFIX):
            for group in page["logGroups"]:
                tags = logs.list_tags_for_resource(resourceArn=_arn(group)).get("tags", {})
                if is_owned(tags, cluster_name):
                    name = group["logGroupName"]
                    found.append(Owned(cls.kind, name, name, cls.delete_id))
        return found
