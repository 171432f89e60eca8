"""An S3 bucket made versioned, encrypted by default (SSE-S3) and closed to the public:
the calls behind `escala state create` (escala.ops.state_bucket)."""

from botocore.exceptions import ClientError

from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError, UsageError
from escala.reconcile.retry import error_code

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


def ensure_private_versioned_bucket(aws: ClientFactory, bucket: str) -> None:
    """Create the bucket in the factory's region unless this account has it, then (again)
    turn on versioning, default encryption and the public access block."""
    s3 = aws.client("s3")
    doing = f"creating state bucket {bucket}"
    try:
        try:
            extra = (
                {}
                if aws.region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
            )
            s3.create_bucket(Bucket=bucket, **extra)
        except ClientError as e:
            code = error_code(e)
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
