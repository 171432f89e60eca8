"""`escala image build` / `escala image push`: the seed's 5.3 and 5.4 as two commands.

A build is tagged `escala:<version>` and `escala:<version>-<commit>` (the git commit of
the build context, `-dirty` when it has uncommitted changes). A push sends the
`<version>-<commit>` tag to the owner's ECR repository (created first if `update` has
not made it yet) or to `--registry`, then records the digest the registry answered in
the state store, last: a failed push records nothing. From then on the owner's image
defaults to `repository@sha256:...`, which names the same bytes on every node.
"""

import dataclasses
import datetime
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from escala import __version__
from escala.api import ObjectMeta
from escala.api.image import ImageRecord, ImageSpec, parse_image
from escala.cloud.aws.ecr_login import RegistryLogin, ecr_login
from escala.cloud.aws.ecr_repository import PREFIX, repository_name
from escala.cloud.aws.session import ClientFactory
from escala.errors import SpecInvalid, UsageError
from escala.image.engine import Engine, find_engine
from escala.model.context import ModelContext
from escala.model.image_repository import build_image_repository
from escala.reconcile.engine import Apply, run
from escala.state import StateStore

OwnerKind = Literal["Cluster", "ChatService"]
LOCAL_NAME = "escala"
# The host's trust store: handed to the build as a secret so pip works behind a
# TLS-intercepting proxy (the Dockerfile uses it only when it is there).
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


@dataclasses.dataclass(frozen=True)
class Owner:
    """The cluster or chat service an image is pushed for, and its region."""

    kind: OwnerKind
    name: str
    region: str


def push_command(kind: OwnerKind, owner: str) -> str:
    """The command that pushes an image for the owner."""
    flag = "--name" if kind == "Cluster" else "--chatservice"
    return f"escala image push {flag} {owner}"


def version_tag(context: Path) -> str:
    """`<version>-<commit>` (`-dirty` with uncommitted changes), or `<version>` outside git."""

    def git(*args: str) -> str | None:
        done = subprocess.run(
            ["git", "-C", str(context), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return __version__
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{__version__}-{commit}{'-dirty' if dirty else ''}"


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    context: Path
    base_image: str | None = None
    engine: str | None = None
    ca_bundle: Path | None = None


@dataclasses.dataclass(frozen=True)
class Built:
    engine: str
    tags: list[str]


def _ca_bundle(given: Path | None) -> Path | None:
    if given is not None:
        if not given.is_file():
            raise UsageError(f"--ca-bundle: {given} is not a file")
        return given
    found = [os.environ.get("SSL_CERT_FILE", ""), *CA_BUNDLES]
    return next((Path(p) for p in found if p and Path(p).is_file()), None)


def build_image(options: BuildOptions, progress: Callable[[str], None] = lambda _: None) -> Built:
    """Build the Dockerfile of `options.context`; EngineFailed (exit 1) with the
    engine's last lines when a step fails."""
    if not (options.context / "Dockerfile").is_file():
        raise UsageError(
            f"--context: no Dockerfile in {options.context}; run from escala's source "
            "checkout or pass --context DIR"
        )
    if options.base_image is not None:
        parse_image(options.base_image, "--base-image")
    engine = find_engine(options.engine)
    tags = [f"{LOCAL_NAME}:{__version__}", f"{LOCAL_NAME}:{version_tag(options.context)}"]
    build_args = {"BASE_IMAGE": options.base_image} if options.base_image else {}
    ca = _ca_bundle(options.ca_bundle)
    engine.build(
        options.context,
        list(dict.fromkeys(tags)),
        build_args,
        {"ca-bundle": ca} if ca else {},
        progress,
    )
    return Built(engine.name, list(dict.fromkeys(tags)))


@dataclasses.dataclass(frozen=True)
class PushOptions:
    cluster: str | None = None
    chat_service: str | None = None
    # host[:port][/path]; http:// means plain HTTP (a local registry).
    registry: str | None = None
    # The local image to push (default: the build of this checkout's commit).
    image: str | None = None
    context: Path = Path()
    engine: str | None = None


def find_owner(store: StateStore | None, options: PushOptions) -> Owner | None:
    if options.cluster and options.chat_service:
        raise UsageError("give --name (a cluster) or --chatservice, not both")
    if (options.cluster or options.chat_service) and store is None:
        raise UsageError("no state store to find the owner in; pass --state")
    if options.cluster:
        assert store is not None
        spec = store.get_cluster(options.cluster, completed=True).spec
        return Owner("Cluster", options.cluster, str(spec.region))
    if options.chat_service:
        assert store is not None
        service = store.get_chat_service(options.chat_service)
        return Owner("ChatService", service.name, str(service.spec.region))
    if options.registry is None:
        raise UsageError(
            "nowhere to push: give --name CLUSTER or --chatservice NAME (their ECR "
            "repository), or --registry HOST[:PORT]"
        )
    return None


def _registry(url: str) -> tuple[str, bool]:
    """(host[:port][/path], plain HTTP?) of a --registry value."""
    for scheme, insecure in (("http://", True), ("https://", False)):
        if url.startswith(scheme):
            return url.removeprefix(scheme).rstrip("/"), insecure
    if "://" in url:
        raise UsageError(f"--registry: {url!r}; write HOST[:PORT], https://HOST or http://HOST")
    return url.rstrip("/"), False


@dataclasses.dataclass(frozen=True)
class Pushed:
    repository: str
    tag: str
    digest: str
    engine: str
    owner: Owner | None

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}"

    def record(self) -> ImageRecord:
        assert self.owner is not None
        return ImageRecord(
            metadata=ObjectMeta(name=self.owner.name),
            spec=ImageSpec(
                owner_kind=self.owner.kind,
                repository=self.repository,
                tag=self.tag,
                digest=self.digest,
                engine=self.engine,
                pushed_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
            ),
        )


def push_image(
    store: StateStore | None,
    options: PushOptions,
    clients: Callable[[str], ClientFactory],
    progress: Callable[[str], None] = lambda _: None,
) -> Pushed:
    """Push the local image; record its digest for the owner (when there is one).

    `clients(region)` gives the AWS clients of the owner's region (ECR's login)."""
    owner = find_owner(store, options)
    registry, insecure = _registry(options.registry) if options.registry else ("", False)
    engine = find_engine(options.engine)
    local = options.image or f"{LOCAL_NAME}:{version_tag(options.context)}"
    tag = parse_image(local, "--image").tag or __version__
    if not engine.has_image(local):
        raise UsageError(
            f"--image: {engine.name} has no image {local}; build it first with "
            "`escala image build` (or name a local image with --image)"
        )
    path = repository_name(owner.name if owner else "chat")
    login: RegistryLogin | None = None
    if registry:
        repository = f"{registry}/{path}"
    else:
        assert owner is not None
        cloud = clients(owner.region)
        repository = _ensure_repository(cloud, owner)
        login, insecure = ecr_login(cloud, repository.split("/", 1)[0]), False
    target = f"{repository}:{tag}"
    engine.tag(local, target)
    try:
        digest = _push(engine, target, login, insecure, progress)
    finally:
        engine.untag(target)  # the registry's name was only for the push
    pushed = Pushed(repository, tag, digest, engine.name, owner)
    if store is not None and owner is not None:
        store.put_image(pushed.record())
    return pushed


def _ensure_repository(cloud: ClientFactory, owner: Owner) -> str:
    """The owner's ECR repository URI, creating it (as `update` would) when missing."""
    repository = build_image_repository(ModelContext(owner.name))
    run(owner.name, [repository], cloud, Apply(cloud))
    assert repository.uri is not None
    return repository.uri


def _push(
    engine: Engine,
    target: str,
    login: RegistryLogin | None,
    insecure: bool,
    progress: Callable[[str], None],
) -> str:
    with engine.session() as env:
        if login is not None:
            engine.login(login.registry, login.username, login.password, env, insecure=insecure)
        return engine.push(target, env, insecure=insecure, progress=progress)


def pushed_image(store: StateStore, kind: OwnerKind, owner: str, field: str) -> str:
    """The owner's recorded `repository@sha256:...`; SpecInvalid naming `field` and the
    way out when nothing was pushed for it."""
    record = store.get_image(kind, owner)
    if record is None:
        raise SpecInvalid(
            [
                f"{field}: no image given and none pushed for {kind.lower()} {owner!r}; "
                f"build and push one (`escala image build && {push_command(kind, owner)}`) "
                "or give one"
            ],
            f"{kind.lower()} {owner}",
        )
    return record.spec.reference


def check_image_owner(reference: str, kind: OwnerKind, owner: str, field: str) -> None:
    """Refuse an image in another owner's escala repository: it goes when that owner is
    deleted, and this one's instances would stop being able to start."""
    path = parse_image(reference, field).repository.split("/", 1)[-1]
    if ".dkr.ecr." in reference and path.startswith(PREFIX) and path != repository_name(owner):
        other = path.removeprefix(PREFIX)
        raise UsageError(
            f"{field}: {reference} is in the repository of {other!r}, which is deleted with "
            f"it; push the image for {kind.lower()} {owner!r} (`{push_command(kind, owner)}`) "
            "and use that"
        )
