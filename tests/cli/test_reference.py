"""docs/cli.md, the CLI reference, is what the commands' `--help` says today."""

import difflib
from pathlib import Path

import typer.main

from escala.cli.main import app
from escala.cli.reference import render

PAGE = Path(__file__).parents[2] / "docs" / "cli.md"


def _leaf_commands(command, path: str):  # typer's vendored click has no public types
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield path
        return
    for name, sub in subcommands.items():
        yield from _leaf_commands(sub, f"{path} {name}")


def test_the_checked_in_reference_is_current():
    rendered = render()
    checked_in = PAGE.read_text() if PAGE.exists() else ""
    if checked_in != rendered:
        diff = difflib.unified_diff(
            checked_in.splitlines(),
            rendered.splitlines(),
            "docs/cli.md",
            "the commands",
            n=1,
            lineterm="",
        )
        shown = "\n".join(list(diff)[:40])
        raise AssertionError(
            "docs/cli.md is stale: a command, argument or option changed. "
            f"Run `make docs` and commit docs/cli.md.\n{shown}"
        )


def test_the_reference_has_a_section_for_every_command():
    page = render()
    leaves = list(_leaf_commands(typer.main.get_command(app), "escala"))
    assert "escala create cluster" in leaves and "escala chat serve" in leaves
    missing = [leaf for leaf in leaves if f"`{leaf}`\n" not in page]
    assert not missing, f"commands without a section in the reference: {missing}"
