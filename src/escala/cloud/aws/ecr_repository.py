"""The ECR repository a cluster's or chat service's chat image is pushed to.

Scanned on push, tags immutable (a pushed `0.1.0-<commit>` always means the same image;
escala deploys by digest anyway), encrypted at rest, and a lifecycle policy that expires
all but the last `keep_images` images so the repository does not grow without bound.
Found and deleted with its owner by the ownership tags, like every other resource;
`delete ... --keep-image-repository` leaves it.
"""

import dataclasses
import json
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import as_dict, as_list, is_owned
from escala.reconcile.task import FieldChange, Fields, Owned, Task

KEEP_IMAGES = 20
# Where escala's repositories live: `escala/<owner>`; discovery looks only there.
PREFIX = "escala/"


def repository_name(owner: str) -> str:
    """`escala/<cluster or chat service name>`: lower case, as ECR requires."""
    return f"{PREFIX}{owner.lower()}"


def lifecycle_policy(keep_images: int) -> dict[str, Any]:
    """ECR's lifecycle policy document: expire every image but the newest `keep_images`."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"keep the last {keep_images} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_images,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def _kept(policy_text: str | None) -> int | None:
    """The image count an escala lifecycle policy keeps (None: no or another policy)."""
    if not policy_text:
        return None
    rules = json.loads(policy_text).get("rules", [])
    counts = [r.get("selection", {}).get("countNumber") for r in rules]
    return counts[0] if len(counts) == 1 else None


def _missing(error: ClientError, code: str) -> bool:
    return error.response["Error"]["Code"] == code


@dataclasses.dataclass(eq=False, kw_only=True)
class EcrRepository(Task):
    kind = "ECRRepository"
    iam_actions = (
        "ecr:DescribeRepositories",
        "ecr:CreateRepository",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutImageTagMutability",
        "ecr:GetLifecyclePolicy",
        "ecr:PutLifecyclePolicy",
        "ecr:ListTagsForResource",
        "ecr:TagResource",
        "ecr:DeleteRepository",
    )
    # ECR cannot change a repository's encryption once it is created.
    immutable = frozenset({"encryption"})

    keep_images: int = KEEP_IMAGES
    # The repository's address (`<account>.dkr.ecr.<region>.amazonaws.com/escala/chat`).
    uri: str | None = dataclasses.field(default=None, init=False)

    def desired(self) -> Fields:
        return {
            "scanOnPush": True,
            "tagMutability": "IMMUTABLE",
            "encryption": "AES256",
            "keepImages": self.keep_images,
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        ecr = cloud.client("ecr")
        try:
            found = ecr.describe_repositories(repositoryNames=[self.name])["repositories"][0]
        except ClientError as e:
            if _missing(e, "RepositoryNotFoundException"):
                return None
            raise
        self.id, self.uri = found["repositoryArn"], found["repositoryUri"]
        try:
            policy = ecr.get_lifecycle_policy(repositoryName=self.name)["lifecyclePolicyText"]
        except ClientError as e:
            if not _missing(e, "LifecyclePolicyNotFoundException"):
                raise
            policy = None
        return {
            "scanOnPush": found.get("imageScanningConfiguration", {}).get("scanOnPush", False),
            "tagMutability": found.get("imageTagMutability"),
            "encryption": found.get("encryptionConfiguration", {}).get("encryptionType"),
            "keepImages": _kept(policy),
        }

    def create(self, cloud: ClientFactory) -> None:
        found = cloud.client("ecr").create_repository(
            repositoryName=self.name,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
            encryptionConfiguration={"encryptionType": "AES256"},
            tags=as_list(self.tags),
        )["repository"]
        self.id, self.uri = found["repositoryArn"], found["repositoryUri"]
        self._put_lifecycle_policy(cloud)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        ecr = cloud.client("ecr")
        fields = {c.field for c in changes}
        if "scanOnPush" in fields:
            ecr.put_image_scanning_configuration(
                repositoryName=self.name, imageScanningConfiguration={"scanOnPush": True}
            )
        if "tagMutability" in fields:
            ecr.put_image_tag_mutability(repositoryName=self.name, imageTagMutability="IMMUTABLE")
        if "keepImages" in fields:
            self._put_lifecycle_policy(cloud)

    def _put_lifecycle_policy(self, cloud: ClientFactory) -> None:
        cloud.client("ecr").put_lifecycle_policy(
            repositoryName=self.name,
            lifecyclePolicyText=json.dumps(lifecycle_policy(self.keep_images)),
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        """Delete the repository and its images (`force`): its owner is going."""
        name = resource_id.split(":repository/", 1)[1]
        cloud.client("ecr").delete_repository(repositoryName=name, force=True)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        ecr = cloud.client("ecr")
        found = []
        for page in ecr.get_paginator("describe_repositories").paginate():
            for repository in page["repositories"]:
                if not repository["repositoryName"].startswith(PREFIX):
                    continue
                arn = repository["repositoryArn"]
                tags = as_dict(ecr.list_tags_for_resource(resourceArn=arn).get("tags"))
                if is_owned(tags, cluster_name):
                    found.append(Owned(cls.kind, repository["repositoryName"], arn, cls.delete_id))
        return found
