"""`escala image build` and `escala image push`: the chat's container image, built with
the engine this machine has and pushed to the owner's ECR repository by digest."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape

from escala.cli.naming import STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, err_console
from escala.image.engine import ENGINES
from escala.state import open_store

image = typer.Typer(help="Build the chat's container image and push it.", no_args_is_help=True)

ENGINE_OPTION = typer.Option(
    None, "--engine", help=f"{', '.join(ENGINES)} (default: the first one installed)."
)
KEEP_IMAGE_REPOSITORY_OPTION = typer.Option(
    False,
    "--keep-image-repository",
    help="Leave the ECR repository and its images (deleted with the rest by default).",
)
CONTEXT_OPTION = typer.Option(
    Path(), "--context", help="escala's source checkout, with the Dockerfile (default: .)."
)


@contextmanager
def _engine_status(doing: str) -> Iterator[Callable[[str], None]]:
    """A spinner showing the engine's latest line, so a long build visibly progresses."""
    started = time.monotonic()
    with err_console.status(escape(doing)) as status:

        def show(line: str) -> None:
            elapsed = time.monotonic() - started
            status.update(f"{escape(doing)} [dim]({elapsed:.0f} s) {escape(line[:100])}[/]")

        yield show


@image.command("build")
def build_command(
    base_image: str | None = typer.Option(
        None,
        "--base-image",
        help="Image with python3 and venv to build on (default: python:3.12-slim).",
    ),
    ca_bundle: Path | None = typer.Option(
        None,
        "--ca-bundle",
        help="CA certificates pip trusts inside the build (default: the host's trust store).",
    ),
    engine: str | None = ENGINE_OPTION,
    context: Path = CONTEXT_OPTION,
) -> None:
    """Build the chat's image, tagged escala:<version> and escala:<version>-<commit>."""
    from escala.ops.image import BuildOptions, build_image

    options = BuildOptions(context=context, base_image=base_image, engine=engine,
                           ca_bundle=ca_bundle)  # fmt: skip
    started = time.monotonic()
    with _engine_status("Building the chat's image...") as show:
        built = build_image(options, show)
    console.print(
        f"Built {', '.join(built.tags)} with {built.engine} in {time.monotonic() - started:.0f} s."
        f"\n  push it:  escala image push --name CLUSTER   (or --chatservice NAME)",
        highlight=False,
    )


@image.command("push")
def push_command(
    name: str | None = typer.Option(None, "--name", help="Push to this cluster's repository."),
    chat_service: str | None = typer.Option(
        None, "--chatservice", help="Push to this chat service's repository."
    ),
    registry: str | None = typer.Option(
        None,
        "--registry",
        help="Push to this registry instead of ECR: HOST[:PORT], or http://HOST:PORT for "
        "plain HTTP (a local registry).",
    ),
    local_image: str | None = typer.Option(
        None, "--image", help="Local image to push (default: escala:<version>-<commit>)."
    ),
    engine: str | None = ENGINE_OPTION,
    context: Path = CONTEXT_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Push the image; print its digest and record it for the cluster or chat service,
    whose deploys then default to repository@sha256:..."""
    from escala.cloud.aws.session import ClientFactory
    from escala.ops.image import PushOptions, push_image

    options = PushOptions(
        cluster=name,
        chat_service=chat_service,
        registry=registry,
        image=local_image,
        context=context,
        engine=engine,
    )
    store = open_store(state) if name or chat_service else None
    with _engine_status("Pushing the chat's image...") as show:
        pushed = push_image(store, options, lambda region: ClientFactory(region=region), show)
    data = {"repository": pushed.repository, "tag": pushed.tag, "digest": pushed.digest,
            "image": pushed.reference}  # fmt: skip
    if output is not OutputFormat.table:
        emit(data, output, lambda: None)
        return
    console.print(f"Pushed {pushed.repository}:{pushed.tag}\n  digest: {pushed.digest}",
                  highlight=False)  # fmt: skip
    if pushed.owner is None:
        console.print(f"  image:  {pushed.reference}", highlight=False)
        return
    state_url = store.url if store else ""
    next_step = (
        f"escala deploy chat --name {pushed.owner.name}"
        if pushed.owner.kind == "Cluster"
        else f"escala update chatservice {pushed.owner.name} --yes"
    )
    console.print(
        f"  image:  {pushed.reference}\n"
        f"Recorded for {pushed.owner.kind.lower()} {pushed.owner.name} in {state_url}; "
        f"deploy it with: {next_step}",
        highlight=False,
    )
