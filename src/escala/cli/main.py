"""The `escala` entry point and its one error boundary.

Each run imports only the command modules its first word needs
(escala.cli.commands). Errors escala understands become one line on
stderr and an exit code (2 for bad input, 1 otherwise); tracebacks only with --debug;
Ctrl-C exits 130.
"""

import os
import sys

import typer
from rich.markup import escape

from escala import __version__
from escala.cli import commands, hints, verbs
from escala.cli.output import err_console
from escala.errors import EscalaError

_debug = False
COMPLETION_ENV = "_ESCALA_COMPLETE"  # set by the shell while it asks for completions


def _version(value: bool) -> None:
    if value:
        typer.echo(f"escala {__version__}")
        raise typer.Exit()


def root(
    debug: bool = typer.Option(False, "--debug", envvar="ESCALA_DEBUG", help="Show tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Run a highly-available, auto-scaling Socket.IO chat on AWS, the kops way."""
    global _debug
    _debug = debug


def version_command() -> None:
    """Print escala's version (also: escala --version)."""
    typer.echo(f"escala {__version__}")


def _listed_only() -> None:
    """Stands in for a command `escala --help` lists but this run does not use."""


def first_word(argv: list[str]) -> str | None:
    """The command word of a command line (root options such as --debug skipped)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_app(load: tuple[str, ...]) -> typer.Typer:
    """The CLI with the command modules `load` imported; every other top-level command
    is listed (for --help) but not imported, which keeps start-up short."""
    app = typer.Typer(
        name="escala",
        help="Run a highly-available, auto-scaling Socket.IO chat on AWS, the kops way.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        epilog=(
            "Tab completion: `escala --install-completion` (bash, zsh, fish; then open a new "
            "shell). Start with `escala sandbox`, a local AWS, and the walk-through in "
            "docs/tutorial.md."
        ),
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    # `escala --help` groups the commands the way a newcomer meets them: what to set up
    # first, the kops verbs, then the chat and the tools around it.
    app.command("version", rich_help_panel=commands.SET_UP)(version_command)
    modules = {name: commands.import_module(name) for name in load}
    set_up = {n: c for n, c in commands.COMMANDS.items() if c.panel == commands.SET_UP}
    _add_commands(app, set_up, modules)
    for name, verb in commands.VERBS.items():
        app.add_typer(verbs.ALL[name], name=name, rich_help_panel=verb.panel)
    others = {n: c for n, c in commands.COMMANDS.items() if n not in set_up}
    _add_commands(app, others, modules)
    return app


def __getattr__(name: str) -> typer.Typer:
    """`escala.cli.main.app`: the whole tree, every command module imported (for the
    generated reference and the tests; the entry point builds only what it needs)."""
    if name == "app":
        return build_app(commands.all_modules())
    raise AttributeError(name)


def _add_commands(
    app: typer.Typer, table: dict[str, commands.Command], modules: dict[str, object]
) -> None:
    for name, command in table.items():
        if command.module not in modules:
            app.command(name, help=command.help, rich_help_panel=command.panel)(_listed_only)
        elif command.group:
            group = getattr(modules[command.module], command.attribute)
            app.add_typer(group, name=name, rich_help_panel=command.panel)
        else:
            function = getattr(modules[command.module], command.attribute)
            app.command(name, rich_help_panel=command.panel)(function)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and map every failure to an exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if COMPLETION_ENV in os.environ:
        load = commands.all_modules()  # completing any word needs the whole tree
    else:
        load = commands.modules_for(first_word(argv))
    command = typer.main.get_command(build_app(load))
    try:
        code = command.main(args=argv, prog_name="escala", standalone_mode=False)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.TyperException as e:
        e.show()
        sys.exit(e.exit_code)
    except EscalaError as e:
        if _debug:
            err_console.print_exception()
        message = hints.explain(e) or str(e)
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except Exception as e:  # the last boundary: a bug or an unexpected reply, not a traceback
        if _debug:
            err_console.print_exception()
        hint = hints.explain(e)  # AWS unreachable: no credentials, no endpoint, a bad reply
        if hint:
            err_console.print(
                f"[bold red]error:[/] {escape(hint)}", highlight=False, soft_wrap=True
            )
            sys.exit(1)
        err_console.print(
            f"[bold red]unexpected error:[/] {escape(type(e).__name__)}: {escape(str(e))} "
            "(run with --debug for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
