"""IAM policy pieces the cluster's roles and the chat services' roles share."""

from typing import Any

# Pull images from ECR: masters, nodes, chat instances and Fargate task execution.
ECR_READ = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)


def statement(
    actions: tuple[str, ...] | list[str], resource: Any = "*", **extra: Any
) -> dict[str, Any]:
    """One Allow statement; actions sorted so a policy compares equal run after run."""
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resource, **extra}
