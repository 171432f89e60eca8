"""The ChatService document: the chat run on its own, behind a load balancer, on an EC2
Auto Scaling Group or on ECS Fargate (the seed's first and third scaling cases).

Same envelope as the cluster documents (`apiVersion: escala.io/v1alpha1`), so it sits in
the same state store. The Redis and PostgreSQL URLs hold passwords: the spec names the
SSM Parameter Store SecureString parameters that hold them, never the URLs, so they land
in no user-data, task definition or state store. `complete` fills the defaults (pure);
`escala.api.chat_service_spec_validation` checks the completed document.
"""

import enum
from typing import Any, Literal

from pydantic import Field

from escala.api.chat_scaling import CPU_TARGET
from escala.api.defaults import (
    NETWORK_CIDR,
    OPEN_TO_THE_WORLD,
    carve_subnets,
    default_image,
    region_of_zones,
)
from escala.api.types import API_VERSION, ObjectMeta, Subnet, _Model, load_kind, parse_kinds

KIND = "ChatService"
CHAT_PORT = 3000
MACHINE_TYPE = "t3.small"
ROOT_VOLUME_SIZE = 16
FARGATE_CPU = 512  # CPU units: 1024 = one vCPU
FARGATE_MEMORY = 1024  # MiB
MIN_SIZE = 2
MAX_SIZE = 6
# Connected clients per replica that connection tracking keeps. docs/performance.md
# (scenario 2) saw one replica's delivery p99 reach seconds at 1000 busy clients, so
# half of that leaves room for a burst of reconnects while new replicas boot.
CONNECTIONS_TARGET = 500
# The chat's own CloudWatch metrics (escala.chat.cloudwatch writes them as EMF lines).
METRICS_NAMESPACE = "Escala/Chat"
CONNECTIONS_METRIC = "ConnectedClients"
MESSAGES_METRIC = "MessagesOut"
DELIVERIES_METRIC = "MessagesDelivered"
SERVICE_DIMENSION = "Service"


class Platform(enum.StrEnum):
    ec2 = "ec2"
    fargate = "fargate"


class ScaleSignal(enum.StrEnum):
    """What a target-tracking policy follows: the replicas' average CPU, or their
    average connected clients (the chat's own metric, `CONNECTIONS_METRIC`)."""

    cpu = "cpu"
    connections = "connections"


class ChatServiceSpec(_Model):
    """Fields apply to both platforms unless named: `ami`, `machineType` and
    `rootVolumeSize` are EC2's; `cpu` and `memory` are Fargate's task size."""

    platform: Platform
    region: str | None = None
    network_cidr: str | None = Field(default=None, alias="networkCIDR")
    subnets: list[Subnet] = Field(default_factory=list)
    http_access: list[str] = Field(default_factory=list)
    image: str | None = None
    ami: str | None = None
    machine_type: str | None = None
    root_volume_size: int | None = None
    cpu: int | None = None
    memory: int | None = None
    min_size: int | None = None
    max_size: int | None = None
    cpu_target: float | None = None
    # Each signal gets its own target-tracking policy: AWS scales out when any asks and
    # in only when all agree. Empty (documents stored before the field) means cpu.
    scale_on: list[ScaleSignal] = Field(default_factory=list)
    connections_target: int | None = None
    redis_parameter: str | None = None
    database_parameter: str | None = None
    # The chat's --allow-origin (pages served elsewhere that may connect; the balancer's
    # own address always may) and the SSM SecureString holding its token keys (the
    # chat's ESCALA_CHAT_AUTH_SECRET: current key, a space, previous key): authentication
    # on when set.
    allow_origin: list[str] = Field(default_factory=list)
    auth_secret_parameter: str | None = None
    # The chat's --allow-eio3: also serve Socket.IO 2 clients (Engine.IO v3).
    allow_eio3: bool = Field(default=False, alias="allowEIO3")


class ChatService(_Model):
    api_version: Literal["escala.io/v1alpha1"] = API_VERSION
    kind: Literal["ChatService"] = KIND
    metadata: ObjectMeta
    spec: ChatServiceSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def scale_signals(self) -> list[ScaleSignal]:
        return self.spec.scale_on or [ScaleSignal.cpu]


def parse_chat_service(data: Any, source: str = "document") -> ChatService:
    """One decoded document -> ChatService; SpecInvalid lists every problem by path."""
    return parse_kinds({KIND: ChatService}, data, source)


def load_chat_service(text: str | bytes, source: str) -> ChatService:
    return load_kind(ChatService, text, source)


def dump_chat_service(service: ChatService) -> dict[str, Any]:
    return service.model_dump(mode="json", by_alias=True, exclude_none=True)


def complete(service: ChatService) -> ChatService:
    """The completed document (a copy): region from the zones, subnets carved from the
    network, sizes and targets defaulted; the platform's own fields only."""
    spec = service.spec
    network = spec.network_cidr or NETWORK_CIDR
    ec2 = spec.platform is Platform.ec2
    machine = spec.machine_type or MACHINE_TYPE

    def given(value: Any, default: Any) -> Any:
        """A number the user gave, 0 included (validation refuses it), else the default."""
        return default if value is None else value

    filled = spec.model_copy(
        update={
            "region": spec.region or region_of_zones([s.zone for s in spec.subnets]),
            "network_cidr": network,
            "subnets": carve_subnets(network, spec.subnets),
            "http_access": spec.http_access or [OPEN_TO_THE_WORLD],
            "ami": (spec.ami or default_image(machine)) if ec2 else spec.ami,
            "machine_type": machine if ec2 else spec.machine_type,
            "root_volume_size": given(spec.root_volume_size, ROOT_VOLUME_SIZE)
            if ec2
            else spec.root_volume_size,
            "cpu": spec.cpu if ec2 else given(spec.cpu, FARGATE_CPU),
            "memory": spec.memory if ec2 else given(spec.memory, FARGATE_MEMORY),
            "min_size": given(spec.min_size, MIN_SIZE),
            "max_size": given(spec.max_size, max(MAX_SIZE, spec.min_size or 0)),
            "cpu_target": given(spec.cpu_target, float(CPU_TARGET)),
            "scale_on": spec.scale_on or [ScaleSignal.cpu],
            "connections_target": given(spec.connections_target, CONNECTIONS_TARGET)
            if ScaleSignal.connections in spec.scale_on
            else spec.connections_target,
        }
    )
    return service.model_copy(update={"spec": filled})
