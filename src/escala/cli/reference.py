"""The CLI reference, docs/cli.md, rendered from the Typer tree itself (as kops generates
docs/cli/), so it lists every command, argument and option there is and cannot drift
from `--help`.

`make docs` rewrites it (`python -m escala.cli.reference docs/cli.md`); a test fails
when the checked-in page differs from what this renders. Typer's own Markdown renderer
(the one behind `typer ... utils docs`) does the work.
"""

import sys
from pathlib import Path

import typer
import typer.cli
import typer.main

from escala.cli.main import app

PAGE = Path("docs/cli.md")
HEADER = (
    "<!-- Generated from the Typer tree by `make docs` (escala.cli.reference); "
    "do not edit by hand. -->\n\n"
)


def render() -> str:
    """Every command's help (usage, arguments, options) as one Markdown page."""
    command = typer.main.get_command(app)
    # The root's context settings (`-h` beside `--help`) reach every subcommand, as at
    # run time.
    context = typer.Context(command, info_name="escala", **command.context_settings)
    docs = typer.cli.get_docs_for_click(
        obj=command, ctx=context, name="escala", title="The `escala` command reference"
    )
    return HEADER + docs.strip() + "\n"


def main(argv: list[str]) -> None:
    page = Path(argv[0]) if argv else PAGE
    page.write_text(render())
    print(f"wrote {page}")


if __name__ == "__main__":
    main(sys.argv[1:])
