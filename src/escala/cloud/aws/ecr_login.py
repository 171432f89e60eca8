"""The credentials a container engine logs in to ECR with, from GetAuthorizationToken.

The token is a password valid for 12 hours. It is handed to the engine on standard
input only: never printed, logged, put in argv or written anywhere but the engine's
own short-lived auth file (see escala.image.engine).
"""

import base64
import dataclasses

from botocore.exceptions import ClientError

from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError

# What pushing needs beyond the repository task's own actions (AWS's documented list
# for `docker push` to ECR).
PUSH_IAM_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
)


@dataclasses.dataclass(frozen=True)
class RegistryLogin:
    """A user name and password for one registry host; the password never shows in repr."""

    registry: str
    username: str
    password: str = dataclasses.field(repr=False)


def ecr_login(cloud: ClientFactory, registry: str) -> RegistryLogin:
    """A login to `registry` (`<account>.dkr.ecr.<region>.amazonaws.com`)."""
    account = registry.split(".", 1)[0]
    try:
        answer = cloud.client("ecr").get_authorization_token(registryIds=[account])
    except ClientError as e:
        raise CloudError(f"getting an ECR authorization token for {registry}: {e}") from e
    token = answer["authorizationData"][0]["authorizationToken"]
    username, _, password = base64.b64decode(token).decode().partition(":")
    return RegistryLogin(registry, username, password)
