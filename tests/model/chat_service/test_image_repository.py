"""The chat service's ECR repository and image, against a moto server: no image given
and none pushed is refused before anything exists; once `escala image push` recorded a
digest, the tasks run `repository@sha256:...`; the repository is scanned on push,
immutable, encrypted, keeps the last images, is reconciled back when changed by hand,
and goes with its owner unless --keep-image-repository."""

import json

import boto3

from escala.cloud.aws.ecr_repository import KEEP_IMAGES, repository_name
from escala.cloud.aws.tags import CLUSTER_TAG, ownership_tag
from escala.state import open_store
from tests.cli.run import escala
from tests.image.records import pushed
from tests.model.chat_service.specs import FARGATE_FLAGS, IMAGE, NAME

REPOSITORY = repository_name(NAME)
FLAGS = tuple(f for f in FARGATE_FLAGS if f not in ("--image", IMAGE))


def _repository() -> dict | None:
    ecr = boto3.client("ecr")
    found = ecr.describe_repositories()["repositories"]
    return next((r for r in found if r["repositoryName"] == REPOSITORY), None)


def test_without_an_image_create_with_yes_stores_and_creates_nothing(
    aws, state, parameters, capsys
) -> None:
    result = escala(capsys, "create", "chatservice", NAME, *FLAGS, *state, "--yes")
    assert result.code == 2
    assert "spec.image: no image given and none pushed for chatservice 'chat'" in result.err
    assert f"escala image push --chatservice {NAME}" in result.err
    assert not open_store(state[1]).has_chat_service(NAME)
    assert _repository() is None
    assert not boto3.client("ec2").describe_vpcs(
        Filters=[{"Name": f"tag:{CLUSTER_TAG}", "Values": [NAME]}]
    )["Vpcs"]


def test_the_pushed_digest_runs_and_the_repository_follows_its_owner(
    aws, state, parameters, capsys
) -> None:
    assert escala(capsys, "create", "chatservice", NAME, *FLAGS, *state).code == 0
    record = pushed("ChatService", NAME)
    open_store(state[1]).put_image(record)  # what `escala image push --chatservice` writes

    applied = escala(capsys, "update", "chatservice", NAME, *state, "--yes")
    assert applied.code == 0, applied.err
    ecs = boto3.client("ecs")
    (service,) = ecs.describe_services(cluster=f"chat-{NAME}", services=[f"chat-{NAME}"])[
        "services"
    ]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    (container,) = definition["taskDefinition"]["containerDefinitions"]
    assert container["image"] == record.spec.reference

    repository = _repository()
    assert repository is not None
    assert repository["imageScanningConfiguration"]["scanOnPush"] is True
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["encryptionConfiguration"]["encryptionType"] == "AES256"
    ecr = boto3.client("ecr")
    listed = ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]
    tags = {t["Key"]: t["Value"] for t in listed}
    assert tags[ownership_tag(NAME)] == "owned" and tags[CLUSTER_TAG] == NAME
    policy = ecr.get_lifecycle_policy(repositoryName=REPOSITORY)["lifecyclePolicyText"]
    (rule,) = json.loads(policy)["rules"]
    assert rule["selection"]["countNumber"] == KEEP_IMAGES
    assert rule["action"]["type"] == "expire"
    again = escala(capsys, "update", "chatservice", NAME, *state)
    assert again.out.strip() == "No changes need to be applied"

    # Changed by hand: the next update puts it back.
    ecr.put_image_tag_mutability(repositoryName=REPOSITORY, imageTagMutability="MUTABLE")
    ecr.delete_lifecycle_policy(repositoryName=REPOSITORY)
    plan = escala(capsys, "update", "chatservice", NAME, *state)
    assert f"ECRRepository/{REPOSITORY}" in plan.out
    assert "tagMutability: MUTABLE -> IMMUTABLE" in plan.out
    assert "keepImages: (none) -> 20" in plan.out
    assert escala(capsys, "update", "chatservice", NAME, *state, "--yes").code == 0
    assert _repository()["imageTagMutability"] == "IMMUTABLE"  # type: ignore[index]
    assert ecr.get_lifecycle_policy(repositoryName=REPOSITORY)["lifecyclePolicyText"]

    kept = escala(capsys, "delete", "chatservice", NAME, *state, "--yes",
                  "--keep-image-repository")  # fmt: skip
    assert kept.code == 0, kept.err
    assert _repository() is not None
    assert not ecs.describe_clusters(clusters=[f"chat-{NAME}"])["clusters"] or all(
        c["status"] != "ACTIVE"
        for c in ecs.describe_clusters(clusters=[f"chat-{NAME}"])["clusters"]
    )
    assert open_store(state[1]).get_image("ChatService", NAME) is None

    # Found again by its tags alone, it goes with a plain delete.
    gone = escala(capsys, "delete", "chatservice", NAME, *state, "--yes")
    assert gone.code == 0, gone.err
    assert f"ECRRepository/{REPOSITORY}" in gone.out
    assert _repository() is None
