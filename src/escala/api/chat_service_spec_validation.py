"""Rules of a completed ChatService, each problem prefixed with its field path.

The image and scaling rules are those of every scaling case (escala.api.chat_scaling).
Like `escala.api.validation` for clusters: every problem is collected and raised at once
as SpecInvalid (exit 2), before anything is written or created. Pure.
"""

import ipaddress
import re
from collections import Counter

from escala.api.chat_scaling import ScalingFields, scaling_problems
from escala.api.chat_service_spec import ChatService, Platform, ScaleSignal
from escala.api.validation import _IMAGE, _MACHINE_TYPE, _REGION, ORIGIN, zone_region
from escala.errors import SpecInvalid

# The name is the ownership tag's value and part of every AWS name (`chat-<name>` load
# balancer, at most 32 characters). No dot: cluster names have one, so the two never
# claim the same resources.
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$")
# SSM parameter names: letters, digits and . _ - / (AWS's own pattern, at most 2048).
_PARAMETER = re.compile(r"^/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
FIELDS = ScalingFields(
    image="spec.image", min="spec.minSize", max="spec.maxSize", cpu_target="spec.cpuTarget"
)
# The CPU/memory pairs Fargate accepts (MiB), as the ECS documentation lists them.
FARGATE_SIZES: dict[int, range] = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
}
_EC2_ONLY = (
    ("ami", "ami"),
    ("machine_type", "machineType"),
    ("root_volume_size", "rootVolumeSize"),
)
_FARGATE_ONLY = (("cpu", "cpu"), ("memory", "memory"))


def validate_chat_service(service: ChatService) -> None:
    found = problems(service)
    if found:
        raise SpecInvalid(found, f"chatservice {service.name}")


def problems(service: ChatService) -> list[str]:
    out: list[str] = []
    spec = service.spec
    if not _NAME.match(service.name):
        out.append(
            f"metadata.name: {service.name!r} must be 1-20 lowercase letters, digits or '-', "
            "starting with a letter (no dots: it names the load balancer), e.g. chat"
        )
    out += _network(service)
    out += _platform_fields(service)
    out += scaling_problems(FIELDS, spec.image, spec.min_size, spec.max_size, spec.cpu_target)
    out += _scaling(service)
    out += _parameters(service)
    out += [
        f"spec.allowOrigin[{n}]: {origin!r} is not an origin; write it as "
        "https://chat.example.com (scheme://host[:port], no path)"
        for n, origin in enumerate(spec.allow_origin)
        if not ORIGIN.match(origin)
    ]
    return out


def _network(service: ChatService) -> list[str]:
    spec, out = service.spec, []
    if not spec.region or not _REGION.match(spec.region):
        out.append(f"spec.region: {spec.region!r} is not an AWS region such as eu-west-1")
    zones = [s.zone for s in spec.subnets]
    if len(set(zones)) < 2:
        out.append(
            "spec.subnets: an Application Load Balancer needs subnets in at least two zones; "
            "give --zones eu-west-1a,eu-west-1b"
        )
    for zone, count in Counter(zones).items():
        if count > 1:
            out.append(f"spec.subnets: zone {zone} is listed {count} times")
    for i, subnet in enumerate(spec.subnets):
        if zone_region(subnet.zone) != spec.region or not subnet.zone[-1:].isalpha():
            out.append(f"spec.subnets[{i}].zone: {subnet.zone!r} is not a zone of {spec.region}")
    try:
        network = ipaddress.ip_network(spec.network_cidr or "", strict=True)
    except ValueError as e:
        out.append(f"spec.networkCIDR: {spec.network_cidr!r} is not a CIDR ({e})")
        network = None
    for i, subnet in enumerate(spec.subnets):
        try:
            block = ipaddress.ip_network(subnet.cidr or "", strict=True)
        except ValueError as e:
            out.append(f"spec.subnets[{i}].cidr: {subnet.cidr!r} is not a CIDR ({e})")
            continue
        if network is not None and not block.subnet_of(network):  # type: ignore[arg-type]
            out.append(f"spec.subnets[{i}].cidr: {block} is not inside spec.networkCIDR {network}")
    for i, cidr in enumerate(spec.http_access):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as e:
            out.append(f"spec.httpAccess[{i}]: {cidr!r} is not a CIDR ({e})")
    for cidr, count in Counter(spec.http_access).items():
        if count > 1:
            out.append(f"spec.httpAccess: {cidr} is listed {count} times; give it once")
    return out


def _platform_fields(service: ChatService) -> list[str]:
    spec, out = service.spec, []
    ec2 = spec.platform is Platform.ec2
    for attr, field in _FARGATE_ONLY if ec2 else _EC2_ONLY:
        if getattr(spec, attr) is not None:
            out.append(f"spec.{field}: only for platform {'fargate' if ec2 else 'ec2'}; remove it")
    if ec2:
        if not _MACHINE_TYPE.match(spec.machine_type or ""):
            out.append(
                f"spec.machineType: {spec.machine_type!r} is not an EC2 instance type such as "
                "t3.small"
            )
        if not _IMAGE.match(spec.ami or ""):
            out.append(f"spec.ami: {spec.ami!r} must be an AMI ID (ami-...) or <owner>/<name>")
        if spec.root_volume_size is None or spec.root_volume_size < 8:
            out.append(f"spec.rootVolumeSize: {spec.root_volume_size} must be at least 8 GiB")
        return out
    memory = FARGATE_SIZES.get(spec.cpu or 0)
    if memory is None:
        out.append(
            f"spec.cpu: {spec.cpu} is not a Fargate task size; use one of "
            f"{', '.join(map(str, FARGATE_SIZES))} (1024 = one vCPU)"
        )
    elif spec.memory not in memory:
        out.append(
            f"spec.memory: {spec.memory} MiB does not go with cpu {spec.cpu}; use "
            f"{memory.start} to {memory.stop - 1} in steps of {memory.step}"
        )
    return out


# More clients per replica than one process can hold open (its file descriptors).
MAX_CONNECTIONS_TARGET = 50_000


def _scaling(service: ChatService) -> list[str]:
    spec, out = service.spec, []
    for signal, count in Counter(spec.scale_on).items():
        if count > 1:
            out.append(f"spec.scaleOn: {signal.value} is listed {count} times")
    connections = ScaleSignal.connections in service.scale_signals
    target = spec.connections_target
    if connections and (target is None or not 1 <= target <= MAX_CONNECTIONS_TARGET):
        out.append(
            f"spec.connectionsTarget: {target} must be the connected clients per replica to "
            f"keep, from 1 to {MAX_CONNECTIONS_TARGET}, e.g. 500"
        )
    if not connections and target is not None:
        out.append(
            "spec.connectionsTarget: set, but spec.scaleOn does not include connections; "
            "add it (--scale-on cpu,connections) or remove the target"
        )
    return out


def _parameters(service: ChatService) -> list[str]:
    out: list[str] = []
    for field, value, required in (
        ("redisParameter", service.spec.redis_parameter, True),
        ("databaseParameter", service.spec.database_parameter, False),
        ("authSecretParameter", service.spec.auth_secret_parameter, False),
    ):
        if value is None:
            if required:
                out.append(
                    f"spec.{field}: missing; the replicas share rooms and presence through Redis. "
                    "Store its URL with `escala create parameter /escala/chat/redis` (asks "
                    "for it, never shows it) and give --redis-parameter /escala/chat/redis"
                )
        elif "://" in value or not _PARAMETER.match(value):
            out.append(
                f"spec.{field}: must be the name of an SSM SecureString parameter (e.g. "
                "/escala/chat/redis) holding the URL, not the URL itself: a URL here would "
                "land in the user-data or task definition"
            )
    return out
