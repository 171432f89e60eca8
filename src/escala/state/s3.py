"""A state store in an S3 bucket (`s3://bucket/prefix`)."""

from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from escala.errors import StateStoreError, StateStoreMissing, UsageError


class S3Store:
    def __init__(self, url: str, s3: Any) -> None:
        parsed = urlparse(url)
        if not parsed.netloc:
            raise UsageError(f"state store {url!r}: give a bucket, e.g. s3://my-state-bucket")
        self.url = url.rstrip("/")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.s3 = s3

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, doing: str, e: ClientError) -> StateStoreError:
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "404"):
            return StateStoreMissing(
                f"{doing} {self.url}: the state store does not exist yet (NoSuchBucket); "
                f"create it with `escala state create --bucket {self.bucket}`, or point "
                "--state / ESCALA_STATE_STORE at an existing one"
            )
        return StateStoreError(f"{doing} {self.url}: {code or e}")

    def read(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._fail(f"reading {key} from", e) from e

    def write(self, key: str, data: bytes, secret: bool = False) -> None:
        extra = {"ServerSideEncryption": "AES256"}
        if secret:
            extra["ACL"] = "private"
        try:
            self.s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
        except ClientError as e:
            raise self._fail(f"writing {key} to", e) from e

    def list(self, prefix: str) -> list[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        except ClientError as e:
            raise self._fail("listing", e) from e
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            raise self._fail(f"deleting {key} from", e) from e
