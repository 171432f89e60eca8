"""The record `escala image push` leaves in the state store, for tests that start after
a push (deploying by digest) without running an engine."""

import datetime

from escala.api import ObjectMeta
from escala.api.image import ImageRecord, ImageSpec
from escala.cloud.aws.ecr_repository import repository_name

REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
DIGEST = "sha256:" + "5e" * 32


def pushed(kind: str, owner: str, digest: str = DIGEST) -> ImageRecord:
    """An image pushed to `owner`'s ECR repository."""
    return ImageRecord(
        metadata=ObjectMeta(name=owner),
        spec=ImageSpec(
            owner_kind=kind,  # type: ignore[arg-type]
            repository=f"{REGISTRY}/{repository_name(owner)}",
            tag="0.1.0-0123456789ab",
            digest=digest,
            engine="podman",
            pushed_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        ),
    )
