"""The ChatDeployment: the chat on an escala cluster, scaled by a HorizontalPodAutoscaler
on CPU with cluster-autoscaler adding nodes (the seed's second scaling case), as
`escala deploy chat` is asked for it.

Its own kind, not a third ChatService platform: it runs inside a cluster escala already
manages, whose network, load balancer and nodes are the cluster's, so most of a
ChatService (network, ALB access, AMI and machine type, Fargate size, SSM parameters)
would not apply, and its own fields (drain time, a Kubernetes Secret for the database)
apply to no ChatService. What the cases share, the image and how it scales, is checked
by the same rules with the same CPU default (escala.api.chat_scaling). Named after the
cluster it runs on; `escala.kube.manifests` turns it into Kubernetes objects.

Stored at `<cluster>/chatdeployment` (escala.state) as it was asked: only the fields a
flag set, at this deploy or an earlier one, so a later deploy keeps them, and a field
never set takes escala's default, as it did. Pure.
"""

import re
from typing import Any, Literal

from pydantic import Field

from escala import __version__
from escala.api.chat_scaling import CPU_TARGET, ScalingFields, scaling_problems
from escala.api.types import API_VERSION, ObjectMeta, _Model, load_kind
from escala.api.validation import ORIGIN
from escala.errors import SpecInvalid

KIND = "ChatDeployment"
IMAGE = f"escala:{__version__}"
MIN_REPLICAS = 2
MAX_REPLICAS = 10
DRAIN_TIMEOUT = 10  # seconds: the chat's own default (`escala chat serve --drain-timeout`)
# Its messages name the flags of `escala deploy chat`, which is where the values come from.
FLAGS = ScalingFields(image="--image", min="--min", max="--max", cpu_target="--cpu-target")

# Never carried into the next deploy: the cluster's own fields, read from its completed
# spec every time, and the first deploy's replica count (the HPA owns it after; kept,
# it would refuse a later --min above it).
NOT_KEPT = frozenset({"kubernetes_version", "region", "replicas"})

_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class ChatDeploymentSpec(_Model):
    kubernetes_version: str  # the cluster's: picks the cluster-autoscaler release
    region: str  # the cluster's
    image: str = IMAGE  # unset: `deploy chat` runs the image last pushed for the cluster
    replicas: int | None = None  # the first deploy's count; None: minReplicas
    min_replicas: int = MIN_REPLICAS
    max_replicas: int = MAX_REPLICAS
    cpu_target: int = CPU_TARGET  # percent of the pods' CPU request
    drain_timeout: int = DRAIN_TIMEOUT
    database_secret: str | None = None  # a Secret whose `url` key is the chat's --database
    # A Secret whose `keys` key holds the chat's token keys (authentication on when set),
    # and the chat's --allow-origin: pages served elsewhere that may connect.
    auth_secret: str | None = None
    allow_origin: list[str] = Field(default_factory=list)
    # The chat's --allow-eio3: also serve Socket.IO 2 clients (Engine.IO v3).
    allow_eio3: bool = Field(default=False, alias="allowEIO3")


class ChatDeployment(_Model):
    api_version: Literal["escala.io/v1alpha1"] = API_VERSION
    kind: Literal["ChatDeployment"] = KIND
    metadata: ObjectMeta
    spec: ChatDeploymentSpec

    @property
    def cluster_name(self) -> str:
        return self.metadata.name

    @classmethod
    def for_cluster(
        cls, cluster_name: str, kubernetes_version: str, region: str, **spec: object
    ) -> "ChatDeployment":
        """The deployment on `cluster_name`; `spec` sets fields by their Python names."""
        return cls(
            metadata=ObjectMeta(name=cluster_name),
            spec=ChatDeploymentSpec(
                kubernetes_version=kubernetes_version,
                region=region,
                **spec,  # type: ignore[arg-type]
            ),
        )


def asked(chat: ChatDeployment) -> dict[str, Any]:
    """The fields a flag set, by Python name, but the NOT_KEPT ones: what a stored
    ChatDeployment carries into the next deploy (its image, when none was set, is the
    one last pushed for the cluster, so a push is not frozen out by being stored)."""
    return chat.spec.model_dump(exclude_unset=True, exclude=set(NOT_KEPT))


def dump_chat_deployment(chat: ChatDeployment) -> dict[str, Any]:
    """The stored form: the envelope, and of the spec the fields set, but the replica
    count (the cluster's version and region stay: the document needs them)."""
    body = chat.model_dump(
        mode="json", by_alias=True, exclude_unset=True, exclude={"spec": {"replicas"}}
    )
    return {"apiVersion": chat.api_version, "kind": chat.kind, **body}


def load_chat_deployment(text: str | bytes, source: str) -> ChatDeployment:
    return load_kind(ChatDeployment, text, source)


def problems(chat: ChatDeployment) -> list[str]:
    spec = chat.spec
    out = scaling_problems(FLAGS, spec.image, spec.min_replicas, spec.max_replicas, spec.cpu_target)
    if spec.replicas is not None and not spec.min_replicas <= spec.replicas <= spec.max_replicas:
        out.append(
            f"--replicas: {spec.replicas} is outside --min..--max "
            f"({spec.min_replicas}..{spec.max_replicas})"
        )
    if spec.drain_timeout < 1:
        out.append(f"--drain-timeout: {spec.drain_timeout}; give at least 1 second")
    for flag, secret, example in (
        ("--database-secret", spec.database_secret, "chat-database"),
        ("--auth-secret", spec.auth_secret, "chat-auth"),
    ):
        if secret is not None and (len(secret) > 253 or not _DNS_NAME.match(secret)):
            out.append(
                f"{flag}: {secret!r} is not a Secret name; use lower-case letters, "
                f"digits, '-' and '.', e.g. {example}"
            )
    out += [
        f"--allow-origin: {origin!r} is not an origin; write it as https://chat.example.com"
        for origin in spec.allow_origin
        if not ORIGIN.match(origin)
    ]
    return out


def validate_chat_deployment(chat: ChatDeployment) -> None:
    """Raise SpecInvalid listing every unusable value at once (exit code 2)."""
    found = problems(chat)
    if found:
        raise SpecInvalid(found, "escala deploy chat")
