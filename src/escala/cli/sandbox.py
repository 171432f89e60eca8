"""`escala sandbox`: a local AWS emulator (moto server) to try escala with no account.

Only on a loopback address: the emulator accepts any credentials, so it must never be
reachable from another machine.
"""

import ipaddress
import socket
import threading

import typer

from escala.errors import UsageError

SANDBOX_REGION = "eu-west-1"


def check_loopback(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(
            f"--host: {host!r} is not a loopback address; the sandbox accepts any credentials, "
            "so it only listens on 127.0.0.1 (or ::1)"
        )


def check_port_free(host: str, port: int) -> None:
    """moto's server thread hangs instead of failing on a busy port: check first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as e:
            raise UsageError(
                f"--port: cannot listen on {host}:{port} ({e.strerror}); pick another port"
            ) from e


def export_lines(host: str, port: int) -> list[str]:
    """What a shell needs to point boto3 (and escala) at the sandbox."""
    url_host = f"[{host}]" if ":" in host else host
    return [
        f"export AWS_ENDPOINT_URL=http://{url_host}:{port}",
        "export AWS_ACCESS_KEY_ID=sandbox",
        "export AWS_SECRET_ACCESS_KEY=sandbox",
        f"export AWS_DEFAULT_REGION={SANDBOX_REGION}",
        "unset AWS_PROFILE",
    ]


def sandbox_command(
    port: int = typer.Option(4566, "--port", min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to listen on."),
) -> None:
    """Run a local AWS emulator (moto) until Ctrl-C; prints the export lines to use it."""
    check_loopback(host)
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        raise UsageError("the sandbox needs moto: pip install 'escala[sandbox]'") from e
    check_port_free(host, port)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    typer.echo("# AWS sandbox (moto) running; in another shell run:")
    for line in export_lines(host, port):
        typer.echo(line)
    typer.echo("# Ctrl-C stops it (everything in it is lost).")
    try:
        threading.Event().wait()
    finally:
        server.stop()
