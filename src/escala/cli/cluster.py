"""Cluster specs on the command line: create, get, edit, set and replace.

Each command gathers its flags and calls escala.ops.specs, which validates the whole
cluster before anything is written.
"""

import dataclasses
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import typer
import yaml

from escala.api import (
    Cluster,
    InstanceGroup,
    NatMode,
    Networking,
    Topology,
    dump_document,
    parse_documents,
)
from escala.api.create import (
    CreateClusterOptions,
    default_networking,
    topology_flag_problems,
    zone_flag_problems,
)
from escala.api.types import Authorization
from escala.cli import verbs
from escala.cli.naming import (
    CLUSTER_ARGUMENT,
    NAME_OPTION,
    STATE_OPTION,
    cluster_name,
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
from escala.cli.plan_output import print_plan, step_progress
from escala.errors import SpecInvalid, UsageError
from escala.state import open_store
from escala.state.base import STATE_STORE_ENV


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@dataclasses.dataclass
class CreateCommand:
    spec: CreateClusterOptions
    ssh_public_key: Path | None
    state: str | None
    dry_run: bool
    yes: bool
    output: OutputFormat


@verbs.create.command("cluster")
def create_cluster_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    zones: str | None = typer.Option(
        None,
        "--zones",
        help="Zones for the nodes, e.g. eu-west-1a,... (default: the region's first three).",
    ),
    master_zones: str | None = typer.Option(
        None, "--master-zones", "--control-plane-zones", help="One master per zone listed."
    ),
    master_count: int | None = typer.Option(
        None, "--master-count", "--control-plane-count", min=1, help="Number of masters."
    ),
    master_size: str | None = typer.Option(
        None, "--master-size", "--control-plane-size", help="Master machine type."
    ),
    node_count: int | None = typer.Option(None, "--node-count", min=0, help="Number of nodes."),
    node_size: str | None = typer.Option(None, "--node-size", help="Node machine type."),
    kubernetes_version: str | None = typer.Option(None, "--kubernetes-version"),
    networking: Networking | None = typer.Option(
        None, "--networking", help="The pod network (default: kubenet; calico when private)."
    ),
    authorization: Authorization = typer.Option(Authorization.rbac, "--authorization"),
    network_cidr: str | None = typer.Option(None, "--network-cidr", help="The VPC's CIDR."),
    image: str | None = typer.Option(None, "--image", help="ami-... or <owner>/<name pattern>."),
    admin_access: str | None = typer.Option(
        None, "--admin-access", help="CIDRs allowed to reach the API (default 0.0.0.0/0)."
    ),
    ssh_access: str | None = typer.Option(None, "--ssh-access", help="CIDRs allowed to SSH."),
    ssh_public_key: Path | None = typer.Option(
        None, "--ssh-public-key", help="OpenSSH public key file for the admin user."
    ),
    allow_single_master: bool = typer.Option(
        False, "--allow-single-master", help="Allow 1 master (a dev cluster, not HA)."
    ),
    topology: Topology = typer.Option(
        Topology.public,
        "--topology",
        "-t",
        help="public: machines in public subnets; private: in private subnets behind NAT "
        "gateways, the API behind its load balancer.",
    ),
    nat: NatMode | None = typer.Option(
        None,
        "--nat",
        help="Private topology: a NAT gateway per zone (per-zone, the default) or one (single).",
    ),
    bastion: bool = typer.Option(
        False, "--bastion", help="Private topology: an SSH bastion group in the utility subnets."
    ),
    state: str | None = STATE_OPTION,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the specs; write nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Also build the cloud resources."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Write a cluster and its instance groups to the state store (kops create cluster)."""
    if zones is not None and not _csv(zones):
        raise UsageError(
            "--zones: give at least one zone, e.g. --zones eu-west-1a,eu-west-1b "
            "(or leave the flag out for the region's first three)"
        )
    command = CreateCommand(
        spec=CreateClusterOptions(
            name=cluster_name(cluster, name),
            zones=_csv(zones),
            master_zones=_csv(master_zones),
            master_count=master_count,
            master_size=master_size,
            node_count=node_count,
            node_size=node_size,
            kubernetes_version=kubernetes_version,
            networking=networking,
            authorization=authorization,
            network_cidr=network_cidr,
            image=image,
            admin_access=_csv(admin_access),
            ssh_access=_csv(ssh_access),
            allow_single_master=allow_single_master,
            topology=topology,
            nat=nat,
            bastion=bastion,
        ),
        ssh_public_key=ssh_public_key,
        state=state,
        dry_run=dry_run,
        yes=yes,
        output=output,
    )
    run_create(command)


def _read_key(path: Path | None) -> bytes | None:
    from escala.ops import specs

    if path is None:
        return None
    try:
        return specs.check_ssh_public_key(path.expanduser().read_bytes(), str(path))
    except OSError as e:
        raise UsageError(f"--ssh-public-key: cannot read {path}: {e.strerror}") from e


def _default_zones(options: CreateClusterOptions) -> None:
    """No --zones: the region's first available zones, said out loud (on stderr)."""
    from escala.cloud.aws.session import ClientFactory
    from escala.ops import specs

    if options.zones:
        return
    try:
        cloud = ClientFactory()
    except UsageError as e:
        raise UsageError(
            "--zones: not given, and no AWS region to list zones from; pass --zones "
            "eu-west-1a,eu-west-1b,eu-west-1c or set AWS_DEFAULT_REGION"
        ) from e
    options.zones = specs.default_zones(cloud)
    err_console.print(
        f"Using zones {','.join(options.zones)}: the first {len(options.zones)} available in "
        f"{cloud.region} (set --zones to choose)"
    )


def run_create(command: CreateCommand) -> None:
    from escala.cloud.aws.session import ClientFactory
    from escala.ops import specs
    from escala.ops.update import update_cluster

    _default_zones(command.spec)
    problems = zone_flag_problems(command.spec) + topology_flag_problems(command.spec)
    if problems:
        raise UsageError("\n".join(problems))
    if command.spec.networking is None and command.spec.topology is Topology.private:
        err_console.print(
            f"Using --networking {default_networking(Topology.private)}: kubenet cannot route "
            "a private topology (set --networking to choose)"
        )
    key = _read_key(command.ssh_public_key)
    if command.dry_run:
        state_url = command.state or os.environ.get(STATE_STORE_ENV, "")
        _, completed, groups = specs.plan_cluster(command.spec, state_url)
        _emit_documents([completed, *groups], command.output)
        return
    store = open_store(command.state)
    cluster, _ = specs.create_cluster(
        store, command.spec, key, lambda region: ClientFactory(region=region)
    )
    _notice_region(cluster.spec.region)
    if not command.yes:
        console.print(
            f"Cluster configuration for {cluster.name} has been written to {store.url}.\n"
            f"  list the groups:   escala get instancegroups --name {cluster.name}\n"
            f"  edit a group:      escala edit instancegroup nodes --name {cluster.name}\n"
            f"  build the cluster: escala update cluster --name {cluster.name} --yes"
        )
        return
    with step_progress(f"Building the AWS resources of {cluster.name}") as on_step:
        clients = ClientFactory(region=cluster.spec.region)
        plan = update_cluster(store, cluster.name, clients, yes=True, on_step=on_step)
    print_plan(plan, command.output, "")
    if command.output is OutputFormat.table:
        console.print(
            f"Cluster {cluster.name} is being built; the machines take a few minutes to boot.\n"
            f"  check its health:  escala validate cluster --name {cluster.name}\n"
            f"  use kubectl:       escala export kubeconfig --name {cluster.name} --admin\n"
            f"  deploy the chat:   escala deploy chat --name {cluster.name} --image IMAGE"
        )


def _notice_region(region: str) -> None:
    """Zones of another region than the shell's are fine (the cluster's commands use the
    cluster's region), but rarely meant: say so."""
    shell = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if shell and shell != region:
        err_console.print(
            f"note: the zones are in {region}, not in AWS_DEFAULT_REGION={shell}; the cluster "
            f"lives in {region} (escala uses the cluster's own region for it)",
            highlight=False,
        )


def _emit_documents(docs: list[Cluster | InstanceGroup], fmt: OutputFormat) -> None:
    data = [dump_document(d) for d in docs]
    emit(data, OutputFormat.yaml if fmt is OutputFormat.table else fmt, lambda: None)


@verbs.get.command("clusters")
@verbs.get.command("cluster", hidden=True)
def get_clusters_command(
    named: list[str] | None = names_argument("these clusters"),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List the clusters in the state store: NAME CLOUD ZONES; with one NAME, `-o yaml`
    prints that cluster alone (kops get cluster NAME -o yaml)."""
    store = open_store(state)
    clusters = [store.get_cluster(name) for name in named or store.list_clusters()]
    emit(
        one_or_all([dump_document(c) for c in clusters], named),
        output,
        lambda: table(
            ["NAME", "CLOUD", "ZONES"],
            [
                (c.name, c.spec.cloud_provider, ",".join(s.zone for s in c.spec.subnets))
                for c in clusters
            ],
        ),
    )


@verbs.get.command("instancegroups")
@verbs.get.command("ig", hidden=True)
def get_instance_groups_command(
    groups_named: list[str] | None = typer.Argument(None, help="Only these groups."),
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List a cluster's instance groups: NAME ROLE MACHINETYPE MIN MAX ZONES."""
    name = cluster_name(None, name)
    store = open_store(state)
    cluster = store.get_cluster(name, completed=True)
    zone_of = {s.name: s.zone for s in cluster.spec.subnets}
    if groups_named:
        groups = [store.get_instance_group(name, group) for group in groups_named]
    else:
        groups = store.list_instance_groups(name)
    emit(
        [dump_document(g) for g in groups],
        output,
        lambda: table(
            ["NAME", "ROLE", "MACHINETYPE", "MIN", "MAX", "ZONES"],
            [
                (
                    g.name,
                    g.spec.role.value,
                    g.spec.machine_type,
                    g.spec.min_size,
                    g.spec.max_size,
                    ",".join(zone_of.get(s, s) for s in g.spec.subnets),
                )
                for g in groups
            ],
        ),
    )


@verbs.set_.command("instancegroup")
@verbs.set_.command("ig", hidden=True)
def set_instance_group_command(
    group: str = typer.Argument(..., help="The instance group, e.g. nodes."),
    fields: list[str] = typer.Argument(..., help="FIELD=VALUE, e.g. spec.maxSize=5."),
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
) -> None:
    """Set fields of an instance group (validated like `edit`); then `update cluster`."""
    from escala.ops import specs

    name = cluster_name(None, name)
    store = open_store(state)
    changed = specs.set_fields(store.get_instance_group(name, group), fields)
    specs.save_instance_group(store, name, changed)
    console.print(f"instancegroup/{group} updated; apply with: escala update cluster --name {name}")


EDIT_HEADER = (
    "# Edit the {subject} below. Lines starting with '#' are ignored; an empty file\n"
    "# or an unchanged one aborts the edit.\n"
)


def _run_editor(text: str) -> str:
    editor = os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".yaml", prefix="escala-edit-") as f:
        f.write(text)
        f.flush()
        result = subprocess.run([*shlex.split(editor), f.name], check=False)
        if result.returncode != 0:
            raise UsageError(f"$EDITOR: {editor!r} exited with {result.returncode}; nothing saved")
        return Path(f.name).read_text()


def _uncommented(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def edit_document(
    doc: Cluster | InstanceGroup, save: Callable[[Cluster | InstanceGroup], object]
) -> bool:
    """Open `doc` in $EDITOR until `save` accepts it (kubectl edit style): an invalid save
    re-opens the file with the errors on top; an unchanged or emptied file aborts
    (a UsageError if errors were left). Returns whether a new version was saved."""
    subject = f"{doc.kind.lower()}/{doc.name}"
    text, errors = yaml.safe_dump(dump_document(doc), sort_keys=False), ""
    while True:
        edited = _uncommented(_run_editor(EDIT_HEADER.format(subject=subject) + errors + text))
        if not edited.strip() or edited.strip() == _uncommented(text).strip():
            if errors:
                raise UsageError(
                    f"edit of {subject} cancelled with errors left; nothing saved:\n"
                    + errors.replace("# error: ", "")
                )
            return False
        try:
            docs = parse_documents(edited, subject)
            if len(docs) != 1 or docs[0].kind != doc.kind:
                raise SpecInvalid([f"(document): keep exactly one {doc.kind}"], subject)
            if docs[0].name != doc.name:
                raise SpecInvalid([f"metadata.name: cannot rename {doc.name}"], subject)
            save(docs[0])
            return True
        except UsageError as e:
            text = edited + "\n"
            errors = "".join(f"# error: {line}\n" for line in str(e).splitlines())


def _edited(saved: bool, subject: str, cluster_name: str) -> None:
    if saved:
        console.print(f"{subject} edited; apply with: escala update cluster --name {cluster_name}")
    else:
        err_console.print("Edit cancelled, no changes made.")


@verbs.edit.command("instancegroup")
@verbs.edit.command("ig", hidden=True)
def edit_instance_group_command(
    group: str = typer.Argument(..., help="The instance group, e.g. nodes."),
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
) -> None:
    """Edit an instance group in $EDITOR; saved only once it validates."""
    from escala.ops import specs

    name = cluster_name(None, name)
    store = open_store(state)
    saved = edit_document(
        store.get_instance_group(name, group),
        lambda doc: specs.save_instance_group(store, name, doc),  # type: ignore[arg-type]
    )
    _edited(saved, f"instancegroup/{group}", name)


@verbs.edit.command("cluster")
def edit_cluster_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    state: str | None = STATE_OPTION,
) -> None:
    """Edit the cluster's spec (as written, not completed) in $EDITOR; saved only once it
    validates and leaves the fixed fields (network, region, ...) alone."""
    from escala.ops import specs

    name = cluster_name(cluster, name)
    store = open_store(state)
    saved = edit_document(
        store.get_cluster(name),
        lambda doc: specs.save_cluster(store, doc, name),  # type: ignore[arg-type]
    )
    _edited(saved, f"cluster/{name}", name)


def replace_command(
    filename: Path = typer.Option(..., "--filename", "-f", help="YAML file of specs."),
    name: str | None = typer.Option(None, "--name", envvar="ESCALA_CLUSTER_NAME"),
    force: bool = typer.Option(False, "--force", help="Create instance groups that are missing."),
    state: str | None = STATE_OPTION,
) -> None:
    """Replace a cluster or instance groups from a file (kops replace -f)."""
    from escala.ops import specs

    try:
        text = filename.read_text()
    except OSError as e:
        raise UsageError(f"-f: cannot read {filename}: {e.strerror}") from e
    documents = parse_documents(text, str(filename))
    if not documents:
        raise UsageError(f"-f: {filename} holds no Cluster or InstanceGroup document")
    for replaced in specs.replace(open_store(state), documents, name, force=force):
        console.print(f"replaced {replaced}")
