"""The ECR repository of a cluster or chat service: where `escala image push` puts the
chat's image, and where its nodes, instances or Fargate tasks pull it from (their roles
may: escala.model.iam_policy.ECR_READ)."""

from escala.cloud.aws.ecr_repository import EcrRepository, repository_name
from escala.model.context import ModelContext


def build_image_repository(ctx: ModelContext) -> EcrRepository:
    name = repository_name(ctx.owner)
    return ctx.add(EcrRepository(name=name, tags=ctx.tags(name)))
