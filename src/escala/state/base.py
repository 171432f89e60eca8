"""The typed state store, written once over any object store backend."""

import os
from collections.abc import Callable
from typing import Any, Protocol

import yaml

from escala.api import Cluster, InstanceGroup, dump_document, parse_document
from escala.api.chat_deployment import (
    ChatDeployment,
    dump_chat_deployment,
    load_chat_deployment,
)
from escala.api.chat_service_spec import ChatService, dump_chat_service, load_chat_service
from escala.api.image import ImageRecord, dump_image_record, parse_image_record
from escala.errors import AlreadyExists, NotFound, UsageError

STATE_STORE_ENV = "ESCALA_STATE_STORE"
# Chat services live beside the clusters, under a name no cluster can have (no dot).
CHAT_SERVICES = "chatservices/"
# The image pushed for a chat service (a cluster's is `<cluster>/image`).
CHAT_SERVICE_IMAGES = "images/chatservice/"
# The chat `escala deploy chat` runs on a cluster, as asked: `<cluster>/chatdeployment`.
CHAT_DEPLOYMENT = "chatdeployment"


class ObjectStore(Protocol):
    """Bytes under string keys: what an S3 bucket prefix and a directory both offer."""

    url: str

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is none."""

    def write(self, key: str, data: bytes, secret: bool = False) -> None:
        """Write an object; `secret` objects are encrypted at rest and private."""

    def list(self, prefix: str) -> list[str]:
        """Every key under `prefix`, sorted."""

    def delete(self, key: str) -> None:
        """Remove an object; removing a missing one is not an error."""


def _to_yaml(doc: Cluster | InstanceGroup) -> bytes:
    return yaml.safe_dump(dump_document(doc), sort_keys=False).encode()


class StateStore:
    """Clusters, instance groups, secrets, chat services and the chat deployed on a
    cluster, on top of an ObjectStore."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    @property
    def url(self) -> str:
        return self.objects.url

    def _load(self, key: str, source: str) -> Cluster | InstanceGroup | None:
        raw = self.objects.read(key)
        if raw is None:
            return None
        return parse_document(yaml.safe_load(raw), f"{self.url}/{source}")

    def list_clusters(self) -> list[str]:
        """Names of every cluster in the store (not a chat service named `config`)."""
        return sorted(
            key.split("/")[0]
            for key in self.objects.list("")
            if key.count("/") == 1 and key.endswith("/config") and not key.startswith(CHAT_SERVICES)
        )

    def get_cluster(self, name: str, completed: bool = False) -> Cluster:
        """The user's Cluster, or with `completed` the one `create cluster` completed.

        A config without a completed spec is a `create cluster` that stopped before its
        last write: that is said plainly, with the way out, rather than "not found".
        """
        key = f"{name}/cluster-completed.spec" if completed else f"{name}/config"
        doc = self._load(key, key)
        if isinstance(doc, Cluster):
            return doc
        if completed and self.has_cluster(name):
            raise UsageError(
                f"cluster {name!r} has no completed spec in state store {self.url}: its "
                "`escala create cluster` did not finish. Remove it with `escala delete "
                f"cluster --name {name} --yes`, then run `escala create cluster` again"
            )
        raise NotFound(
            f"cluster {name!r} not found in state store {self.url} (see `escala get clusters`)"
        )

    def has_cluster(self, name: str) -> bool:
        return self.objects.read(f"{name}/config") is not None

    def put_cluster(self, cluster: Cluster, completed: Cluster | None = None) -> None:
        self.objects.write(f"{cluster.name}/config", _to_yaml(cluster))
        if completed is not None:
            self.objects.write(f"{cluster.name}/cluster-completed.spec", _to_yaml(completed))

    def create_cluster(self, cluster: Cluster, completed: Cluster | None = None) -> None:
        if self.has_cluster(cluster.name):
            raise AlreadyExists(
                f"cluster {cluster.name!r} already exists in {self.url}; "
                "use `escala replace -f` or `escala edit` to change it"
            )
        self.put_cluster(cluster, completed)

    def list_instance_groups(self, cluster_name: str) -> list[InstanceGroup]:
        groups = []
        for key in self.objects.list(f"{cluster_name}/instancegroup/"):
            doc = self._load(key, key)
            if isinstance(doc, InstanceGroup):
                groups.append(doc)
        return groups

    def get_instance_group(self, cluster_name: str, name: str) -> InstanceGroup:
        key = f"{cluster_name}/instancegroup/{name}"
        doc = self._load(key, key)
        if not isinstance(doc, InstanceGroup):
            raise NotFound(
                f"instance group {name!r} not found in cluster {cluster_name!r} "
                f"(see `escala get instancegroups --name {cluster_name}`)"
            )
        return doc

    def put_instance_group(self, cluster_name: str, group: InstanceGroup) -> None:
        self.objects.write(f"{cluster_name}/instancegroup/{group.name}", _to_yaml(group))

    def delete_instance_group(self, cluster_name: str, name: str) -> None:
        self.objects.delete(f"{cluster_name}/instancegroup/{name}")

    def read_secret(self, cluster_name: str, path: str) -> bytes | None:
        return self.objects.read(f"{cluster_name}/{path}")

    def write_secret(self, cluster_name: str, path: str, data: bytes) -> None:
        self.objects.write(f"{cluster_name}/{path}", data, secret=True)

    def list_chat_services(self) -> list[ChatService]:
        return [
            load_chat_service(self.objects.read(key) or b"", f"{self.url}/{key}")
            for key in self.objects.list(CHAT_SERVICES)
        ]

    def has_chat_service(self, name: str) -> bool:
        return self.objects.read(CHAT_SERVICES + name) is not None

    def get_chat_service(self, name: str) -> ChatService:
        key = CHAT_SERVICES + name
        raw = self.objects.read(key)
        if raw is None:
            raise NotFound(
                f"chat service {name!r} not found in state store {self.url} "
                "(see `escala get chatservices`)"
            )
        return load_chat_service(raw, f"{self.url}/{key}")

    def put_chat_service(self, service: ChatService) -> None:
        data = yaml.safe_dump(dump_chat_service(service), sort_keys=False).encode()
        self.objects.write(CHAT_SERVICES + service.name, data)

    def delete_chat_service(self, name: str) -> None:
        self.objects.delete(CHAT_SERVICE_IMAGES + name)
        self.objects.delete(CHAT_SERVICES + name)

    def get_chat_deployment(self, cluster_name: str) -> ChatDeployment | None:
        """What the last `deploy chat` on the cluster asked for, or None (never deployed,
        deleted with `delete chat`, or deployed by an escala that did not store it)."""
        key = f"{cluster_name}/{CHAT_DEPLOYMENT}"
        raw = self.objects.read(key)
        return None if raw is None else load_chat_deployment(raw, f"{self.url}/{key}")

    def put_chat_deployment(self, chat: ChatDeployment) -> None:
        data = yaml.safe_dump(dump_chat_deployment(chat), sort_keys=False).encode()
        self.objects.write(f"{chat.cluster_name}/{CHAT_DEPLOYMENT}", data)

    def delete_chat_deployment(self, cluster_name: str) -> None:
        self.objects.delete(f"{cluster_name}/{CHAT_DEPLOYMENT}")

    @staticmethod
    def _image_key(owner_kind: str, owner: str) -> str:
        return f"{owner}/image" if owner_kind == "Cluster" else CHAT_SERVICE_IMAGES + owner

    def get_image(self, owner_kind: str, owner: str) -> ImageRecord | None:
        """The image last pushed for the cluster or chat service, or None.

        A record naming another owner (a state store copied or edited by hand) is
        refused: deploying it would run an image from a repository that goes with the
        other owner."""
        key = self._image_key(owner_kind, owner)
        raw = self.objects.read(key)
        if raw is None:
            return None
        record = parse_image_record(yaml.safe_load(raw), f"{self.url}/{key}")
        if (record.spec.owner_kind, record.owner) != (owner_kind, owner):
            raise UsageError(
                f"{self.url}/{key}: the image recorded there was pushed for "
                f"{record.spec.owner_kind.lower()} {record.owner!r}, not {owner_kind.lower()} "
                f"{owner!r}; push one for it with `escala image push` and the owner's name"
            )
        return record

    def put_image(self, record: ImageRecord) -> None:
        key = self._image_key(record.spec.owner_kind, record.owner)
        self.objects.write(key, yaml.safe_dump(dump_image_record(record), sort_keys=False).encode())

    def delete_cluster(self, cluster_name: str) -> None:
        """Remove every object of the cluster, its config last so a half-finished
        delete still shows the cluster and can be run again."""
        keys = self.objects.list(f"{cluster_name}/")
        for key in sorted(keys, key=lambda k: k == f"{cluster_name}/config"):
            self.objects.delete(key)


def open_store(url: str | None, client_factory: Callable[[], Any] | None = None) -> StateStore:
    """Open the state store at `url`, or at $ESCALA_STATE_STORE when url is None.

    `client_factory` returns an S3 client; it is only called for s3:// stores.
    """
    url = url or os.environ.get(STATE_STORE_ENV)
    if not url:
        raise UsageError(
            f"no state store: set {STATE_STORE_ENV}=s3://BUCKET (create one with "
            "`escala state create --bucket BUCKET`) or pass --state"
        )
    if url.startswith("file://"):
        from escala.state.files import DirectoryStore

        return StateStore(DirectoryStore(url))
    if url.startswith("s3://"):
        from escala.state.s3 import S3Store

        if client_factory is None:
            from escala.cloud.aws.session import ClientFactory

            factory = ClientFactory()
            client_factory = lambda: factory.client("s3")  # noqa: E731
        return StateStore(S3Store(url, client_factory()))
    raise UsageError(f"state store {url!r}: must start with s3:// or file://")
