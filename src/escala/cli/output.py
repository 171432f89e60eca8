"""Printing results: Rich tables for people, `-o json|yaml` for scripts."""

import enum
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

# Piped output (scripts, tests, `| less`) gets wide lines instead of Rich's 80-column
# default, so table cells and messages are never truncated or wrapped mid-word.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


class OutputFormat(enum.StrEnum):
    table = "table"
    yaml = "yaml"
    json = "json"


OUTPUT_OPTION = typer.Option(
    OutputFormat.table, "--output", "-o", help="Output format: table, yaml or json."
)


def apply_or_print_option(what: str) -> Any:
    """The `-o` of commands that apply objects to a cluster: `table` applies `what`,
    `yaml`/`json` print it instead and touch nothing."""
    return typer.Option(
        OutputFormat.table,
        "--output",
        "-o",
        help=f"table: apply {what}; yaml or json: print it instead.",
    )


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> Table:
    """A plain, borderless table in the style of kops/kubectl output."""
    out = Table(title=title, box=None, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*("" if cell is None else str(cell) for cell in row))
    return out


def one_or_all(documents: list[Any], named: list[str] | None) -> Any:
    """What `get <noun> NAME -o yaml|json` prints: with one NAME, that document alone (as
    `kops get cluster NAME -o yaml`, ready for `replace -f`); else the list."""
    return documents[0] if named and len(named) == 1 else documents


def emit(data: Any, fmt: OutputFormat, render_table: Callable[[], Any]) -> None:
    """Print `data` as JSON or YAML, or call `render_table` for the human format."""
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    elif fmt is OutputFormat.yaml:
        import yaml  # here, not at the top: `escala --help` starts faster without it

        if isinstance(data, list):
            sys.stdout.write(yaml.safe_dump_all(data, sort_keys=False))
        else:
            sys.stdout.write(yaml.safe_dump(data, sort_keys=False))
    else:
        rendered = render_table()
        if rendered is not None:
            console.print(rendered)
