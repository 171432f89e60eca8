"""The cluster's ECR repository, where `escala image push --name` puts the chat's image
and from which its nodes pull (their role may: escala.model.iam's ECR_READ)."""

from escala.cloud.aws.ecr_repository import owned_repository
from escala.model.context import ModelContext


def build_image_repository(ctx: ModelContext) -> None:
    ctx.add(owned_repository(ctx.cluster_name))
