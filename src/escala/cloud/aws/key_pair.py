"""The admin's SSH public key, imported as an EC2 key pair.

AWS cannot change a key pair's key: a different public key replaces the pair. The
key's SHA-256 is kept in a tag so the diff shows the change without printing the key.
"""

import dataclasses
import hashlib

from botocore.exceptions import ClientError

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import as_dict, tag_specifications
from escala.reconcile.retry import is_not_found
from escala.reconcile.task import FieldChange, Fields

FINGERPRINT_TAG = "escala.io/public-key-sha256"


def public_key_sha256(public_key: str) -> str:
    return hashlib.sha256(public_key.strip().encode()).hexdigest()[:16]


@dataclasses.dataclass(eq=False, kw_only=True)
class KeyPair(Ec2Task):
    kind = "KeyPair"
    ec2_describe = "describe_key_pairs"
    ec2_id_key = "KeyName"
    iam_actions = (
        "ec2:DescribeKeyPairs",
        "ec2:ImportKeyPair",
        "ec2:DeleteKeyPair",
        "ec2:CreateTags",
    )

    public_key: str = dataclasses.field(repr=False)

    def desired(self) -> Fields:
        return {"publicKeySha256": public_key_sha256(self.public_key)}

    def find(self, cloud: ClientFactory) -> Fields | None:
        try:
            pairs = cloud.client("ec2").describe_key_pairs(KeyNames=[self.name])["KeyPairs"]
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        if not pairs:
            return None
        self.id = pairs[0]["KeyPairId"]
        return {"publicKeySha256": as_dict(pairs[0].get("Tags")).get(FINGERPRINT_TAG)}

    def create(self, cloud: ClientFactory) -> None:
        tags = {**self.tags, FINGERPRINT_TAG: public_key_sha256(self.public_key)}
        pair = cloud.client("ec2").import_key_pair(
            KeyName=self.name,
            PublicKeyMaterial=self.public_key.strip().encode(),
            TagSpecifications=tag_specifications("key-pair", tags),
        )
        self.id = pair["KeyPairId"]

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        """Replace the pair: instances launched from now on get the new key."""
        cloud.client("ec2").delete_key_pair(KeyName=self.name)
        self.create(cloud)

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ec2").delete_key_pair(KeyName=resource_id)
