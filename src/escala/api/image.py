"""Container image references, and the record of the chat image pushed for an owner.

A reference is `[registry[:port]/]path[:tag][@sha256:digest]`, as the distribution spec
writes it. escala accepts only references that say which image they mean: a tag, or
better a digest; a bare `escala/chat` (an implied, moving `latest`) is refused.

`escala image push` writes an ImageRecord to the state store (same envelope as every
other document); `deploy chat`, `create chatservice` and the user-data then default to
its `repository@sha256:...`, which always names the same bytes, unlike a tag.
"""

import dataclasses
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from escala.api.types import API_VERSION, ObjectMeta, _field_path, _Model
from escala.errors import SpecInvalid, UsageError

KIND = "Image"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?P<repository>(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
EXAMPLE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/escala/chat@sha256:<64 hex digits>"


@dataclasses.dataclass(frozen=True)
class ImageReference:
    repository: str
    tag: str | None
    digest: str | None

    @property
    def registry(self) -> str | None:
        """The registry host (`host[:port]`), or None for a bare name (Docker Hub)."""
        first, _, rest = self.repository.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return first
        return None

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def image_problem(text: str) -> str | None:
    """Why `text` cannot name one image (None when it can)."""
    match = _REFERENCE.match(text)
    if match is None:
        return (
            f"{text!r} is not a container image reference; write registry/path:tag or "
            f"registry/path@sha256:digest, e.g. {EXAMPLE}"
        )
    if not match["tag"] and not match["digest"]:
        return (
            f"{text!r} has neither a tag nor a digest (it would mean whatever `latest` is "
            f"when a node pulls it); add :TAG or, better, @sha256:DIGEST, e.g. {EXAMPLE}"
        )
    return None


def parse_image(text: str, flag: str = "--image") -> ImageReference:
    """The reference, or UsageError (exit 2) naming `flag` and what is wrong."""
    problem = image_problem(text)
    if problem:
        raise UsageError(f"{flag}: {problem}")
    match = _REFERENCE.match(text)
    assert match is not None
    return ImageReference(match["repository"], match["tag"], match["digest"])


class ImageSpec(_Model):
    """One pushed image: where it is, the tag it was pushed with and its digest."""

    owner_kind: Literal["Cluster", "ChatService"]
    repository: str
    tag: str
    digest: str
    engine: str
    pushed_at: datetime

    @property
    def reference(self) -> str:
        """`repository@sha256:...`: what nodes and tasks pull."""
        return f"{self.repository}@{self.digest}"


class ImageRecord(_Model):
    api_version: Literal["escala.io/v1alpha1"] = API_VERSION
    kind: Literal["Image"] = KIND
    # metadata.name is the owner's name: the cluster or chat service it was pushed for.
    metadata: ObjectMeta
    spec: ImageSpec

    @property
    def owner(self) -> str:
        return self.metadata.name


def parse_image_record(data: Any, source: str) -> ImageRecord:
    try:
        record = ImageRecord.model_validate(data)
    except ValidationError as e:
        problems = [f"{_field_path(err['loc'])}: {err['msg']}" for err in e.errors()]
        raise SpecInvalid(problems, source) from e
    if not _DIGEST.match(record.spec.digest):
        raise SpecInvalid([f"spec.digest: {record.spec.digest!r} is not a sha256 digest"], source)
    return record


def dump_image_record(record: ImageRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", by_alias=True, exclude_none=True)
