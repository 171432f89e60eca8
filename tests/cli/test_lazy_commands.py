"""The entry point imports only the modules a command needs (escala.cli.commands): the
table must name every module that adds a command, and `escala --help` must list the
same commands, with the same help lines, as the full tree. The command modules import
the AWS and Kubernetes clients, the builders and matplotlib inside the commands, so
`escala <word> ... --help` never loads them (docs/startup.md)."""

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest
import typer

import escala.cli
from escala.cli import commands
from escala.cli.main import build_app


def _tree(command: object, path: str = "") -> dict[str, str]:
    """Every command path -> its short help, recursively."""
    out = {path: command.get_short_help_str(limit=300)}  # type: ignore[attr-defined]
    for name, sub in getattr(command, "commands", {}).items():
        out |= _tree(sub, f"{path} {name}".strip())
    return out


# What `escala <word> ... --help` must not load: the clients, the builders, the charts.
HEAVY = ("boto3", "kubernetes", "escala.model", "escala.bootstrap", "matplotlib")

LAZY_TREE = """
import json, sys, typer
from escala.cli import commands
from escala.cli.main import build_app
from tests.cli.test_lazy_commands import HEAVY, _tree
word = sys.argv[1]
tree = _tree(typer.main.get_command(build_app(commands.modules_for(word))))
print(json.dumps({"tree": tree, "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


@pytest.mark.parametrize("word", [*commands.VERBS, *commands.COMMANDS])
def test_each_word_loads_every_command_under_it(word: str) -> None:
    """In a fresh interpreter, as `escala <word>` runs: the word's subtree equals the one
    with every command module imported (new modules included), and building it loaded
    none of the heavy modules."""
    for module in pkgutil.iter_modules(escala.cli.__path__):
        importlib.import_module(f"escala.cli.{module.name}")
    full = _tree(typer.main.get_command(build_app(commands.all_modules())))
    done = subprocess.run(
        [sys.executable, "-c", LAZY_TREE, word], capture_output=True, text=True, check=True
    )
    lazy = json.loads(done.stdout)
    assert lazy["heavy"] == []

    def under(tree: dict[str, str]) -> dict[str, str]:
        return {p: h for p, h in tree.items() if p == word or p.startswith(word + " ")}

    assert under(lazy["tree"]) == under(full)


def test_help_lists_every_command_with_its_own_help_line() -> None:
    full = typer.main.get_command(build_app(commands.all_modules()))
    listed = typer.main.get_command(build_app(()))
    assert sorted(listed.commands) == sorted(full.commands)  # type: ignore[attr-defined]
    for name, command in full.commands.items():  # type: ignore[attr-defined]
        assert listed.commands[name].get_short_help_str(300) == command.get_short_help_str(300)  # type: ignore[attr-defined]


def test_help_imports_no_cloud_or_model_code() -> None:
    probe = (
        "import sys\nfrom escala.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('boto3', 'pydantic', 'kubernetes', 'escala.ops', 'escala.api')"
        " if m in sys.modules]\nprint(heavy, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stderr.strip() == "[]"
