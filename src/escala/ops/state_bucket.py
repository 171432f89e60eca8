"""`escala state create`: the S3 bucket that holds every cluster's specs and secrets.

Versioned (an overwritten spec can be recovered), encrypted by default (SSE-S3) and
closed to the public, as kops's docs ask of KOPS_STATE_STORE. Safe to run again. The
S3 calls are escala.cloud.aws.s3_bucket's.
"""

import re

from escala.cloud.aws.s3_bucket import ensure_private_versioned_bucket
from escala.cloud.aws.session import ClientFactory
from escala.errors import UsageError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check_bucket_name(bucket: str) -> None:
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise UsageError(
            f"--bucket: {bucket!r} is not a valid S3 bucket name (3-63 lowercase letters, "
            "digits, '-' and '.'), e.g. proyecto-escala-state"
        )


def create_state_bucket(aws: ClientFactory, bucket: str) -> str:
    """Create (or finish configuring) the bucket; returns the ESCALA_STATE_STORE URL."""
    check_bucket_name(bucket)
    ensure_private_versioned_bucket(aws, bucket)
    return f"s3://{bucket}"
