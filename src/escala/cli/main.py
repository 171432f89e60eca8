"""The `escala` entry point and its one error boundary.

Every command module registers itself here. Errors escala understands become one line on
stderr and an exit code (2 for bad input, 1 otherwise); tracebacks only with --debug;
Ctrl-C exits 130.
"""

import sys

import typer
from rich.markup import escape

from escala import __version__
from escala.cli import chat, hints, load, verbs
from escala.cli import chat_service_commands as _chat_service  # noqa: F401  (registers chatservice)
from escala.cli import cluster as _cluster_commands
from escala.cli import delete_cluster as _delete_commands  # noqa: F401  (registers nouns)
from escala.cli import deploy as _deploy  # noqa: F401  (registers `deploy chat`, `delete chat`)
from escala.cli import kubeconfig as _kubeconfig  # noqa: F401  (registers `export kubeconfig`)
from escala.cli import parameters as _parameters  # noqa: F401  (registers `create parameter`)
from escala.cli import rolling_update as _rolling_update  # noqa: F401  (registers its nouns)
from escala.cli import secrets as _secrets  # noqa: F401  (registers `get secrets`)
from escala.cli import update as _update_commands  # noqa: F401
from escala.cli import upgrade as _upgrade  # noqa: F401  (registers `upgrade cluster`)
from escala.cli import validate as _validate  # noqa: F401  (registers `validate cluster`)
from escala.cli.access import access
from escala.cli.iam_operator import iam
from escala.cli.output import err_console
from escala.cli.sandbox import sandbox_command
from escala.cli.state import state
from escala.errors import EscalaError

app = typer.Typer(
    name="escala",
    help="Run a highly-available, auto-scaling Socket.IO chat on AWS, the kops way.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    epilog=(
        "Tab completion: `escala --install-completion` (bash, zsh, fish; then open a new "
        "shell). Start with `escala sandbox`, a local AWS, and the walk-through in the README."
    ),
    context_settings={"help_option_names": ["-h", "--help"]},
)

_debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"escala {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", envvar="ESCALA_DEBUG", help="Show tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Run a highly-available, auto-scaling Socket.IO chat on AWS, the kops way."""
    global _debug
    _debug = debug


# `escala --help` groups the commands the way a newcomer meets them: what to set up first,
# the kops verbs, then the chat and the tools around it.
SET_UP = "Set up"
SPECS = "Clusters and chat services (the kops verbs)"
CHAT = "The chat"

@app.command("version", rich_help_panel=SET_UP)
def version_command() -> None:
    """Print escala's version (also: escala --version)."""
    typer.echo(f"escala {__version__}")


app.command("sandbox", rich_help_panel=SET_UP)(sandbox_command)
app.add_typer(iam, name="iam", rich_help_panel=SET_UP)
app.add_typer(state, name="state", rich_help_panel=SET_UP)
for _name, _group in verbs.ALL.items():
    app.add_typer(_group, name=_name, rich_help_panel=CHAT if _name == "deploy" else SPECS)
app.command("replace", rich_help_panel=SPECS)(_cluster_commands.replace_command)
app.add_typer(access, name="access", rich_help_panel=SPECS)
app.add_typer(chat.app, name="chat", rich_help_panel=CHAT)
app.command("load", rich_help_panel=CHAT)(load.load)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and map every failure to an exit code."""
    command = typer.main.get_command(app)
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
