"""How the verbs name what they act on, kops-style: `describe cluster NAME` or
`describe cluster --name NAME`. Its own module, free of the cloud and reconcile code,
because every verb imports it and `escala <verb> --help` should not pay for those."""

import dataclasses
from typing import Any

import typer

from escala.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Naming:
    """The NAME argument and --name option of one kind of object, and the message when a
    verb got neither (the position wins over an environment default, so
    ESCALA_CLUSTER_NAME never hides a name typed on the command line)."""

    what: str  # in messages: "cluster", "chat service"
    noun: str  # the command word: "cluster", "chatservice"
    envvar: str | None = None

    def argument(self, default: str = "") -> Any:
        """`default`: what a verb falls back to without a name, said in the help."""
        also = f"; {default}" if default else ""
        return typer.Argument(
            None, metavar="NAME", help=f"The {self.what}'s name (or --name{also}).",
            show_default=False,
        )  # fmt: skip

    def option(self, default: str = "") -> Any:
        """`default` as for `argument`; the help shows the environment variable itself."""
        also = f" ({default})" if default else ""
        return typer.Option(
            None, "--name", envvar=self.envvar, help=f"The {self.what}'s name{also}."
        )

    def missing(self, positional: bool = True) -> str:
        """The ways to give the name, for a verb that got none; `positional`: the verb
        takes NAME as well as --name."""
        forms = [f"`escala <verb> {self.noun} NAME`"] if positional else []
        forms.append("--name NAME")
        if self.envvar:
            forms.append(f"set {self.envvar}")
        return f"give the {self.what}'s name: {', or '.join(forms)}"

    def name(self, positional: str | None, option: str | None) -> str:
        """The name given by position or by --name; a UsageError when neither gives one."""
        name = positional or option
        if not name:
            raise UsageError(f"{self.missing()} (see `escala get {self.noun}s`)")
        return name


CLUSTER = Naming("cluster", "cluster", envvar="ESCALA_CLUSTER_NAME")
CHAT_SERVICE = Naming("chat service", "chatservice")
CLUSTER_ARGUMENT = CLUSTER.argument()
NAME_OPTION = CLUSTER.option()
STATE_OPTION = typer.Option(None, "--state", help="State store URL (default: $ESCALA_STATE_STORE).")


def names_argument(what: str) -> Any:
    """The NAME... of a `get` listing: only these (with one, `-o yaml` prints it alone)."""
    return typer.Argument(None, metavar="NAME", help=f"Only {what}.", show_default=False)


cluster_name = CLUSTER.name
CHAT_SERVICE_ARGUMENT = CHAT_SERVICE.argument()
CHAT_SERVICE_OPTION = CHAT_SERVICE.option()
