"""The chat services' lifecycle: write the spec, plan and apply its AWS resources,
delete them by ownership tags.

Every change is checked first (completed, then validated as a whole), so bad input
creates nothing; `update` is the same find -> diff -> apply engine as `update cluster`,
so a second run answers "No changes need to be applied".
"""

import dataclasses

from escala.api import ObjectMeta, Subnet
from escala.api.chat_scaling import ReplicaCpu, fargate_cpu
from escala.api.chat_service_spec import (
    ChatService,
    ChatServiceSpec,
    Platform,
    ScaleSignal,
    complete,
    dump_chat_service,
    parse_chat_service,
)
from escala.api.chat_service_spec_validation import validate_chat_service
from escala.cloud.aws.instance_types import instance_vcpus
from escala.cloud.aws.load_balancer import LoadBalancer, elb_name
from escala.cloud.aws.registry import CHAT_SERVICE_DELETABLE
from escala.cloud.aws.scalable_target import ECS_CPU, ServiceScalingPolicy
from escala.cloud.aws.scaling_policy import ASG_CPU, ScalingPolicy
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.ssm_parameter import parameter_types
from escala.cloud.aws.zones import check_zones
from escala.errors import AlreadyExists, CannotChangeField, SpecInvalid, UsageError
from escala.model.chat_service import build_chat_service
from escala.model.chat_service.parameters import named_parameters
from escala.ops.delete_cluster import delete_owner
from escala.ops.image import check_image_owner, pushed_image
from escala.ops.specs import assign_fields
from escala.ops.update import check_region
from escala.reconcile.engine import Apply, DryRun, run
from escala.reconcile.plan import Plan
from escala.state import StateStore


@dataclasses.dataclass
class ChatServiceOptions:
    """The flags of `escala create chatservice`; None leaves the default."""

    name: str
    platform: Platform
    zones: list[str]
    image: str | None = None
    redis_parameter: str | None = None
    database_parameter: str | None = None
    auth_secret_parameter: str | None = None
    allow_origin: list[str] = dataclasses.field(default_factory=list)
    allow_eio3: bool = False
    network_cidr: str | None = None
    http_access: list[str] = dataclasses.field(default_factory=list)
    ami: str | None = None
    machine_type: str | None = None
    cpu: int | None = None
    memory: int | None = None
    min_size: int | None = None
    max_size: int | None = None
    cpu_target: float | None = None
    scale_on: list[str] = dataclasses.field(default_factory=list)
    connections_target: int | None = None


def scale_signals(values: list[str]) -> list[ScaleSignal]:
    """`--scale-on cpu,connections` -> the signals; UsageError naming an unknown one."""
    known = ", ".join(s.value for s in ScaleSignal)
    try:
        return [ScaleSignal(v) for v in values]
    except ValueError:
        bad = next(v for v in values if v not in {s.value for s in ScaleSignal})
        raise UsageError(f"--scale-on: {bad!r} is not one of {known}") from None


def chat_service_from_options(options: ChatServiceOptions) -> ChatService:
    """The completed, validated ChatService the flags describe (SpecInvalid otherwise)."""
    spec = ChatServiceSpec(
        platform=options.platform,
        network_cidr=options.network_cidr,
        subnets=[Subnet(name=zone, zone=zone) for zone in options.zones],
        http_access=options.http_access,
        image=options.image,
        ami=options.ami,
        machine_type=options.machine_type,
        cpu=options.cpu,
        memory=options.memory,
        min_size=options.min_size,
        max_size=options.max_size,
        cpu_target=options.cpu_target,
        scale_on=scale_signals(options.scale_on),
        connections_target=options.connections_target,
        redis_parameter=options.redis_parameter,
        database_parameter=options.database_parameter,
        auth_secret_parameter=options.auth_secret_parameter,
        allow_origin=options.allow_origin,
        allow_eio3=options.allow_eio3,
    )
    service = complete(ChatService(metadata=ObjectMeta(name=options.name), spec=spec))
    validate_chat_service(service)
    return service


def create_chat_service(
    store: StateStore, options: ChatServiceOptions, *, build: bool = False
) -> ChatService:
    """Store the service the flags describe. With `build` (the caller applies next) its
    SSM parameters are checked first too, so a missing one stores nothing and the same
    command works once the parameter exists."""
    service = chat_service_from_options(options)
    if store.has_chat_service(service.name):
        raise AlreadyExists(
            f"NAME: chat service {service.name!r} already exists in {store.url}; "
            "delete it first or pick another name"
        )
    if build:
        with_image(store, service)
        check_cloud_inputs(clients_for(service), service)
    elif service.spec.image:
        with_image(store, service)
    store.put_chat_service(service)
    return service


def with_image(store: StateStore, service: ChatService) -> ChatService:
    """The service with the image its instances or tasks run: `spec.image`, else the
    `repository@sha256:...` that `escala image push --chatservice` recorded for it."""
    spec = service.spec
    if spec.image:
        check_image_owner(spec.image, "ChatService", service.name, "spec.image")
        return service
    image = pushed_image(store, "ChatService", service.name, "spec.image")
    return service.model_copy(update={"spec": spec.model_copy(update={"image": image})})


# What the resources cannot follow in place: a new platform or network is a new service.
FIXED = {
    "spec.platform": lambda s: s.spec.platform.value,
    "spec.region": lambda s: s.spec.region,
    "spec.networkCIDR": lambda s: s.spec.network_cidr,
    "spec.subnets": lambda s: [(z.zone, z.cidr) for z in s.spec.subnets],
}


def set_chat_service_fields(store: StateStore, name: str, assignments: list[str]) -> ChatService:
    """Apply `spec.FIELD=VALUE` assignments to the stored service, complete and validate
    the result, refuse changes to the fixed fields, then store it."""
    service = store.get_chat_service(name)
    subject = f"chatservice/{name}"
    changed = parse_chat_service(
        assign_fields(dump_chat_service(service), assignments, subject), subject
    )
    changed = complete(changed)
    validate_chat_service(changed)
    for field, value in FIXED.items():
        if value(changed) != value(service):
            raise CannotChangeField(
                f"{field}: cannot change from {value(service)!r} to {value(changed)!r}; "
                f"create a new chat service and delete {name} instead"
            )
    store.put_chat_service(changed)
    return changed


def clients_for(service: ChatService) -> ClientFactory:
    return ClientFactory(region=service.spec.region)


def update_chat_service(store: StateStore, name: str, clients: ClientFactory, *, yes: bool) -> Plan:
    """Plan the stored service's resources; apply them only when `yes`."""
    service = store.get_chat_service(name)
    validate_chat_service(service)
    check_region(clients, service.spec.region, name)
    service = with_image(store, service)
    replica = check_cloud_inputs(clients, service)
    tasks = build_chat_service(service, replica)
    # a policy whose signal left spec.scaleOn is deleted (with its alarms)
    prune = (ScalingPolicy, ServiceScalingPolicy)
    plan = run(name, tasks.values(), clients, Apply(clients) if yes else DryRun(), prune=prune)
    if ScaleSignal.cpu in service.scale_signals:
        plan.notes.append(cpu_tracking(service, replica))
    return plan


def replica_cpu(clients: ClientFactory, service: ChatService) -> ReplicaCpu:
    """The vCPUs one replica runs on: its task's cpu units / 1024 (Fargate), or its
    instance type's, from DescribeInstanceTypes (any type the region has, none listed
    here to fall out of date); an unknown type is a UsageError naming spec.machineType."""
    spec = service.spec
    if spec.platform is Platform.fargate:
        return fargate_cpu(int(spec.cpu or 0))
    machine = str(spec.machine_type)
    return ReplicaCpu(machine, instance_vcpus(clients, machine, "spec.machineType"))


def cpu_metric(service: ChatService) -> str:
    """The predefined metric the platform's CPU policy tracks."""
    return ASG_CPU if service.spec.platform is Platform.ec2 else ECS_CPU


def cpu_tracking(service: ChatService, replica: ReplicaCpu) -> str:
    """`cpuTarget 50 % of the chat's core -> ASGAverageCPUUtilization 25 % on t3.small
    (2 vCPUs)`: what the CPU policy's target means."""
    return replica.explain(float(service.spec.cpu_target or 0), cpu_metric(service))


def chat_service_url(clients: ClientFactory, name: str) -> str | None:
    """The chat's address, `http://<load balancer DNS name>`, once its ALB exists."""
    found = LoadBalancer(name=elb_name("chat", name), subnets=[], security_groups=[])
    found.find(clients)
    return f"http://{found.dns_name}" if found.dns_name else None


def delete_chat_service(
    store: StateStore,
    name: str,
    clients: ClientFactory,
    *,
    yes: bool,
    keep_image_repository: bool = False,
) -> Plan:
    """List (and with `yes` delete) what the service owns by tag, then its spec.

    A name with a dot is a cluster's (both own their resources by the same tags):
    refused, so `delete chatservice` never deletes a cluster's resources."""
    if "." in name:
        raise UsageError(
            f"NAME: {name!r} is not a chat service's name (a chat service's never has a "
            f"dot, a cluster's always); to delete a cluster: `escala delete cluster --name "
            f"{name}`"
        )
    in_store = store.has_chat_service(name)
    if in_store:
        check_region(clients, store.get_chat_service(name).spec.region, name)
    return delete_owner(
        clients,
        name,
        yes=yes,
        in_store=in_store,
        forget=lambda: store.delete_chat_service(name),
        kinds=CHAT_SERVICE_DELETABLE,
        keep_image_repository=keep_image_repository,
        not_found=f"chat service {name!r}: not in state store {store.url} and no AWS resource "
        f"in {clients.region} is tagged as its own (see `escala get chatservices`)",
    )


def check_cloud_inputs(cloud: ClientFactory, service: ChatService) -> ReplicaCpu:
    """What only AWS can tell is wrong, checked before anything is created: zones the
    region does not have, SSM parameters missing or not encrypted, an instance type it
    does not know. Returns the replicas' CPU, read on the way (`replica_cpu`)."""
    zones = [s.zone for s in service.spec.subnets]
    check_zones(cloud, zones, f"chatservice {service.name}: --zones")
    check_parameters(cloud, service)
    return replica_cpu(cloud, service)


def check_parameters(cloud: ClientFactory, service: ChatService) -> None:
    """Raise SpecInvalid (exit 2) naming each missing or non-SecureString parameter: a
    typo would otherwise surface only as instances or tasks that fail at boot, and a
    plain String would keep a password unencrypted."""
    wanted = named_parameters(service)
    if not wanted:
        return
    types = parameter_types(cloud, list(wanted.values()))
    problems = []
    for field, name in wanted.items():
        found = types.get(name) or types.get("/" + name.lstrip("/"))
        if found is None:
            problems.append(
                f"spec.{field}: SSM parameter {name} does not exist in {cloud.region}; create "
                f"it with `escala create parameter {name}` (asks for the URL, never shows it)"
            )
        elif found != "SecureString":
            problems.append(
                f"spec.{field}: SSM parameter {name} is a {found}; store the URL as a "
                f"SecureString (`escala create parameter {name} --overwrite`)"
            )
    if problems:
        raise SpecInvalid(problems, f"chatservice {service.name}")
