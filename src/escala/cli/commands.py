"""Which module defines each top-level command, so `escala X` imports only X's.

Importing every command module pulls in boto3, pydantic, the Kubernetes client and the
load generator: over a second before `escala --help` prints anything. The entry point
reads the first word of the command line and imports only the modules listed for it;
`escala --help` imports none and lists the commands from the help lines below. The
command modules in turn import boto3, the Kubernetes client and escala.ops inside their
command functions, so a verb's `--help` loads none of them (docs/startup.md).
tests/cli/test_lazy_commands.py checks this table against the full command tree, so a
new command module that is missing here fails the tests, and checks those imports.
"""

import importlib
from dataclasses import dataclass

SET_UP = "Set up"
SPECS = "Clusters and chat services (the kops verbs)"
CHAT = "The chat"


@dataclass(frozen=True)
class Verb:
    """A kops verb (a group in escala.cli.verbs) and the modules that add its nouns."""

    modules: tuple[str, ...]
    panel: str = SPECS


@dataclass(frozen=True)
class Command:
    """A top-level command or group: `module.attribute`, with the help line shown by
    `escala --help` (the same as the command's own)."""

    module: str
    attribute: str
    help: str
    panel: str
    group: bool = False


VERBS: dict[str, Verb] = {
    "create": Verb(("cluster", "chat_service_commands", "parameters", "instance_group", "volumes")),
    "get": Verb(
        ("cluster", "chat_service_commands", "deploy", "secrets", "backups", "status", "volumes")
    ),
    "edit": Verb(("cluster",)),
    "set": Verb(("cluster", "chat_service_commands")),
    "update": Verb(("update", "chat_service_commands")),
    "delete": Verb(
        ("delete_cluster", "chat_service_commands", "deploy", "instance_group", "volumes")
    ),
    "rolling-update": Verb(("rolling_update",)),
    "validate": Verb(("validate",)),
    "upgrade": Verb(("upgrade",)),
    "export": Verb(("kubeconfig",)),
    "deploy": Verb(("deploy",), panel=CHAT),
    "restore": Verb(("backups",)),
    "describe": Verb(("status",)),
}

COMMANDS: dict[str, Command] = {
    "sandbox": Command(
        "sandbox",
        "sandbox_command",
        "Run a local AWS emulator (moto) until Ctrl-C; prints the export lines to use it.",
        SET_UP,
    ),
    "iam": Command(
        "iam_operator",
        "iam",
        "AWS IAM groundwork: the operator user escala runs as.",
        SET_UP,
        group=True,
    ),
    "state": Command("state", "state", "The state store that keeps the specs.", SET_UP, group=True),
    "replace": Command(
        "cluster",
        "replace_command",
        "Replace a cluster or instance groups from a file (kops replace -f).",
        SPECS,
    ),
    "access": Command(
        "access", "access", "Grant people access to a cluster's API.", SPECS, group=True
    ),
    "chat": Command("chat", "app", "Run the Socket.IO chat service.", CHAT, group=True),
    "metrics": Command(
        "metrics",
        "app",
        "Chart a chat service's or cluster's CloudWatch metrics (CPU, load balancer, "
        "capacity, connected clients).",
        SPECS,
        group=True,
    ),
    "image": Command(
        "image", "image", "Build the chat's container image and push it.", CHAT, group=True
    ),
    "load": Command(
        "load",
        "load",
        "Open N chat clients, have M of them send, and measure delivery latency.",
        CHAT,
    ),
    "simulate": Command(
        "simulate",
        "simulate_command",
        "Simulate the scaling of a case over a load profile: capacity, minutes over the "
        "latency target, minutes over-provisioned, cost.",
        CHAT,
    ),
}


def import_module(name: str) -> object:
    return importlib.import_module(f"escala.cli.{name}")


def modules_for(word: str | None) -> tuple[str, ...]:
    """The command modules `escala <word> ...` needs (none for an unknown word)."""
    if word in VERBS:
        return VERBS[word].modules
    if word in COMMANDS:
        return (COMMANDS[word].module,)
    return ()


def all_modules() -> tuple[str, ...]:
    found = {m for v in VERBS.values() for m in v.modules}
    return tuple(sorted(found | {c.module for c in COMMANDS.values()}))
