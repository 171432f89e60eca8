"""`escala create|get|update|delete chatservice`: the chat on an EC2 Auto Scaling Group or
on ECS Fargate, behind its own Application Load Balancer."""

import typer

from escala.api.chat_service_spec import ChatService, Platform, dump_chat_service
from escala.cli import verbs
from escala.cli.cluster import _csv
from escala.cli.image import KEEP_IMAGE_REPOSITORY_OPTION
from escala.cli.naming import (
    CHAT_SERVICE,
    CHAT_SERVICE_ARGUMENT,
    CHAT_SERVICE_OPTION,
    STATE_OPTION,
    names_argument,
)
from escala.cli.output import (
    OUTPUT_OPTION,
    OutputFormat,
    console,
    emit,
    err_console,
    one_or_all,
    table,
)
from escala.cli.plan_output import print_plan
from escala.errors import UsageError
from escala.state import StateStore, open_store

YES_OPTION = typer.Option(False, "--yes", "-y", help="Apply the changes (else: dry run).")


@verbs.create.command("chatservice")
def create_chat_service_command(
    service_name: str | None = CHAT_SERVICE_ARGUMENT,
    name: str | None = CHAT_SERVICE_OPTION,
    platform: Platform = typer.Option(..., "--platform", help="ec2 or fargate."),
    zones: str = typer.Option(..., "--zones", help="At least two zones, e.g. eu-west-1a,..."),
    image: str | None = typer.Option(
        None,
        "--image",
        help="The chat's container image (default: the one `escala image push "
        "--chatservice` records, by digest).",
    ),
    redis_parameter: str | None = typer.Option(
        None, "--redis-parameter", help="SSM SecureString parameter holding the Redis URL."
    ),
    database_parameter: str | None = typer.Option(
        None, "--database-parameter", help="SSM SecureString parameter with a PostgreSQL URL."
    ),
    auth_secret_parameter: str | None = typer.Option(
        None,
        "--auth-secret-parameter",
        help="SSM SecureString parameter with the chat's token keys: require a signed "
        "token at connect (`escala chat token`).",
    ),
    allow_origin: str | None = typer.Option(
        None,
        "--allow-origin",
        help="Origins (https://host[:port], comma-separated) whose pages may connect "
        "besides the load balancer's own.",
    ),
    allow_eio3: bool = typer.Option(
        False,
        "--allow-eio3",
        help="Also serve Socket.IO 2 clients (socket.io-client 2.x), as the chat's "
        "--allow-eio3; `set chatservice NAME spec.allowEIO3=false` turns it off.",
    ),
    network_cidr: str | None = typer.Option(None, "--network-cidr", help="The VPC's CIDR."),
    http_access: str | None = typer.Option(
        None, "--http-access", help="CIDRs allowed to the load balancer (default 0.0.0.0/0)."
    ),
    ami: str | None = typer.Option(None, "--ami", help="EC2: ami-... or <owner>/<pattern>."),
    machine_type: str | None = typer.Option(None, "--machine-type", help="EC2: t3.small..."),
    cpu: int | None = typer.Option(None, "--cpu", help="Fargate: CPU units (1024 = 1 vCPU)."),
    memory: int | None = typer.Option(None, "--memory", help="Fargate: memory in MiB."),
    min_size: int | None = typer.Option(None, "--min", help="Fewest replicas (default 2)."),
    max_size: int | None = typer.Option(None, "--max", help="Most replicas (default 6)."),
    cpu_target: float | None = typer.Option(
        None,
        "--cpu-target",
        help="Average CPU % of the chat's one core to keep (default 50); on N > 1 vCPUs "
        "the policy tracks it / N.",
    ),
    scale_on: str | None = typer.Option(
        None, "--scale-on", help="What to track: cpu, connections or cpu,connections (cpu)."
    ),
    connections_target: int | None = typer.Option(
        None, "--connections-target", help="Clients per replica to keep (default 500)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Also build the cloud resources."),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Write a chat service to the state store; build it with --yes."""
    from escala.ops.chat_service_lifecycle import ChatServiceOptions, create_chat_service

    name = CHAT_SERVICE.name(service_name, name)
    options = ChatServiceOptions(
        name=name,
        platform=platform,
        zones=_csv(zones),
        image=image,
        redis_parameter=redis_parameter,
        database_parameter=database_parameter,
        auth_secret_parameter=auth_secret_parameter,
        allow_origin=_csv(allow_origin),
        allow_eio3=allow_eio3,
        network_cidr=network_cidr,
        http_access=_csv(http_access),
        ami=ami,
        machine_type=machine_type,
        cpu=cpu,
        memory=memory,
        min_size=min_size,
        max_size=max_size,
        cpu_target=cpu_target,
        scale_on=_csv(scale_on),
        connections_target=connections_target,
    )
    store = open_store(state)
    service = create_chat_service(store, options, build=yes)
    if not yes:
        console.print(
            f"Chat service {name} ({platform}) has been written to {store.url}.\n"
            f"  see the plan:  escala update chatservice {name}\n"
            f"  build it:      escala update chatservice {name} --yes"
        )
        return
    _update(store, name, service, yes=True, output=output)


def _update(
    store: StateStore, name: str, service: ChatService, *, yes: bool, output: OutputFormat
) -> None:
    from escala.ops.chat_service_lifecycle import chat_service_url, clients_for, update_chat_service

    doing = "Applying" if yes else "Planning"
    clients = clients_for(service)
    with err_console.status(f"{doing} the AWS resources of chat service {name}..."):
        plan = update_chat_service(store, name, clients, yes=yes)
    print_plan(plan, output, "Must specify --yes to apply changes")
    url = chat_service_url(clients, name) if yes and output is OutputFormat.table else None
    if url:
        console.print(f"Chat service {name}: {url}")


@verbs.update.command("chatservice")
def update_chat_service_command(
    service_name: str | None = CHAT_SERVICE_ARGUMENT,
    name: str | None = CHAT_SERVICE_OPTION,
    yes: bool = YES_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Plan the AWS resources the chat service needs; apply them with --yes."""
    name = CHAT_SERVICE.name(service_name, name)
    store = open_store(state)
    _update(store, name, store.get_chat_service(name), yes=yes, output=output)


@verbs.set_.command("chatservice")
def set_chat_service_command(
    words: list[str] = typer.Argument(
        ...,
        metavar="[NAME] FIELD=VALUE",
        help="The chat service's name (or --name), then FIELD=VALUE, e.g. spec.maxSize=10.",
    ),
    name: str | None = CHAT_SERVICE_OPTION,
    state: str | None = STATE_OPTION,
) -> None:
    """Set fields of a chat service (validated first); then `update chatservice`."""
    from escala.ops.chat_service_lifecycle import set_chat_service_fields

    # With --name every word is a field; without it the first word is the name.
    fields = words if name else words[1:]
    name = CHAT_SERVICE.name(None if name else words[0], name)
    if not fields:
        raise UsageError(f"give FIELD=VALUE after {name}, e.g. spec.maxSize=10")
    set_chat_service_fields(open_store(state), name, fields)
    console.print(f"chatservice/{name} updated; apply with: escala update chatservice {name}")


@verbs.get.command("chatservices")
@verbs.get.command("chatservice", hidden=True)
def get_chat_services_command(
    named: list[str] | None = names_argument("these chat services"),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List the chat services: NAME PLATFORM ZONES MIN MAX CPU-TARGET (percent of the
    chat's one core; the plan and `describe chatservice` show it on AWS's CPU metric);
    with one NAME, `-o yaml` prints that chat service alone."""
    store = open_store(state)
    services = (
        [store.get_chat_service(name) for name in named] if named else store.list_chat_services()
    )
    emit(
        one_or_all([dump_chat_service(s) for s in services], named),
        output,
        lambda: table(
            ["NAME", "PLATFORM", "ZONES", "MIN", "MAX", "CPU-TARGET"],
            [
                (
                    s.name,
                    s.spec.platform.value,
                    ",".join(z.zone for z in s.spec.subnets),
                    s.spec.min_size,
                    s.spec.max_size,
                    f"{s.spec.cpu_target:g}%",
                )
                for s in services
            ],
        ),
    )


@verbs.delete.command("chatservice")
def delete_chat_service_command(
    service_name: str | None = CHAT_SERVICE_ARGUMENT,
    name: str | None = CHAT_SERVICE_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete (else: list what would go)."),
    keep_image_repository: bool = KEEP_IMAGE_REPOSITORY_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Delete every AWS resource the chat service owns (by tag), then its spec."""
    from escala.cloud.aws.session import ClientFactory
    from escala.ops.chat_service_lifecycle import delete_chat_service

    name = CHAT_SERVICE.name(service_name, name)
    store = open_store(state)
    region = store.get_chat_service(name).spec.region if store.has_chat_service(name) else None
    doing = "Deleting" if yes else "Finding"
    with err_console.status(f"{doing} the AWS resources chat service {name} owns..."):
        plan = delete_chat_service(
            store,
            name,
            ClientFactory(region=region),
            yes=yes,
            keep_image_repository=keep_image_repository,
        )
    print_plan(plan, output, "Must specify --yes to delete the chat service")
    if plan.applied and output is OutputFormat.table:
        console.print(f"Deleted chat service: {name!r}")
