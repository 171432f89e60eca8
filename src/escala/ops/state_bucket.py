"""`escala state create`: the S3 bucket that holds every cluster's specs and secrets.

Versioned (an overwritten spec can be recovered), encrypted by default (SSE-S3) and
closed to the public, as kops's docs ask of KOPS_STATE_STORE. Safe to run again.
"""

import re
from typing import Any

from botocore.exceptions import ClientError

from escala.errors import CloudError, UsageError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# What the operator needs on the state bucket (create it, then read/write its objects).
STATE_BUCKET_ACTIONS = (
    "s3:CreateBucket",
    "s3:GetBucketLocation",
    "s3:GetBucketVersioning",
    "s3:PutBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
)


def check_bucket_name(bucket: str) -> None:
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise UsageError(
            f"--bucket: {bucket!r} is not a valid S3 bucket name (3-63 lowercase letters, "
            "digits, '-' and '.'), e.g. proyecto-escala-state"
        )


def create_state_bucket(s3: Any, bucket: str, region: str) -> str:
    """Create (or finish configuring) the bucket; returns the ESCALA_STATE_STORE URL."""
    check_bucket_name(bucket)
    doing = f"creating state bucket {bucket}"
    try:
        try:
            extra = (
                {}
                if region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            s3.create_bucket(Bucket=bucket, **extra)
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            if code == "BucketAlreadyExists":
                raise UsageError(
                    f"--bucket: {bucket!r} belongs to another AWS account; bucket names are "
                    "global, pick another"
                ) from e
            if code != "BucketAlreadyOwnedByYou":
                raise
        doing = f"configuring state bucket {bucket}"
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    except ClientError as e:
        raise CloudError(f"{doing}: {e}") from e
    return f"s3://{bucket}"
