"""`escala sandbox`: a local AWS emulator (moto server) to try escala with no account.

Only on a loopback address: the emulator accepts any credentials, so it must never be
reachable from another machine. Where moto answers differently from AWS, escala.cli.sandbox_moto
fixes it before the server starts; the test suite runs this same sandbox.
"""

import ipaddress
import json
import logging
import os
import signal
import socket
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from escala.api.defaults import UBUNTU_OWNER
from escala.cli.sandbox_moto import patch_moto
from escala.errors import UsageError

if TYPE_CHECKING:
    from escala.cli.sandbox_faults import Settings

SANDBOX_REGION = "eu-west-1"
# moto ships a few old AMIs only; add the Ubuntu 24.04 images the default instance-group
# image (escala.api.defaults.IMAGE) resolves to, so the walk-through needs no --image.
SANDBOX_AMIS = [
    {
        "ami_id": ami_id,
        "state": "available",
        "public": True,
        "owner_id": UBUNTU_OWNER,
        "image_location": f"{UBUNTU_OWNER}/{name}",
        "root_device_type": "ebs",
        "root_device_name": "/dev/sda1",
        "description": "Canonical, Ubuntu, 24.04 LTS (sandbox copy)",
        "image_type": "machine",
        "architecture": arch,
        "name": name,
        "virtualization_type": "hvm",
        "hypervisor": "xen",
        "creation_date": "2025-10-01T00:00:00.000Z",
    }
    for ami_id, arch, name in (
        (
            "ami-0e5a1b2c3d4e5f601",
            "x86_64",
            "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251001",
        ),
        (
            "ami-0e5a1b2c3d4e5f602",
            "arm64",
            "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20251001",
        ),
    )
]


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


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


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
    enforce_iam: bool = typer.Option(
        False,
        "--enforce-iam",
        help="Check every request against the caller's IAM policies (the printed key is "
        "the account's root; users' keys get what their policies allow).",
    ),
    faults: str | None = typer.Option(
        None,
        "--faults",
        metavar="SEED:RATE",
        help="Fail that share of AWS calls the way AWS does (throttling, 5xx, resets, "
        "lost answers, delays), drawn from SEED: e.g. 7:0.1 (see docs/reconcile.md).",
    ),
) -> None:
    """Run a local AWS emulator (moto) until Ctrl-C; prints the export lines to use it."""
    check_loopback(host)
    settings = _fault_settings(faults)
    with tempfile.TemporaryDirectory(prefix="escala-sandbox-") as tmp:
        os.environ["MOTO_AMIS_PATH"] = write_amis(Path(tmp))
        _serve(host, port, enforce_iam, settings)


def _fault_settings(faults: str | None) -> "Settings | None":
    if faults is None:
        return None
    from escala.cli.sandbox_faults import parse_faults

    try:
        return parse_faults(faults)
    except ValueError as e:
        raise UsageError(f"--faults: {e}") from None


def write_amis(directory: Path) -> str:
    """moto's own AMIs plus SANDBOX_AMIS, as the JSON file MOTO_AMIS_PATH names."""
    from moto.utilities.utils import load_resource

    path = directory / "amis.json"
    amis = [*load_resource("ec2/resources/amis.json"), *SANDBOX_AMIS]
    path.write_text(json.dumps(amis))
    return str(path)


def _serve(
    host: str, port: int, enforce_iam: bool = False, faults: "Settings | None" = None
) -> None:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        raise UsageError("the sandbox needs moto: pip install 'escala[sandbox]'") from e
    check_port_free(host, port)
    patch_moto()  # answer as AWS documents where moto does not (escala.cli.sandbox_moto)
    if enforce_iam:
        from escala.cli.sandbox_iam import enforce

        enforce()  # IAM policies checked as AWS checks them (escala.cli.sandbox_iam)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # with --faults, moto moves to a free port behind the fault proxy, which takes `port`
    moto_port = _free_port(host) if faults is not None else port
    server = ThreadedMotoServer(ip_address=host, port=moto_port, verbose=False)
    server.start()
    proxy = None
    if faults is not None:
        from escala.cli.sandbox_faults import FaultProxy

        proxy = FaultProxy(host, port, (host, moto_port), faults)
        proxy.start()
    typer.echo("# AWS sandbox (moto) running; in another shell run:")
    for line in export_lines(host, port):
        typer.echo(line)
    if enforce_iam:
        typer.echo("# IAM enforced: this key is the account's root; IAM users get their policies.")
    if faults is not None:
        typer.echo(
            f"# faults: {faults.rate:.0%} of AWS calls fail (seed {faults.seed}); "
            f"counts at http://{host}:{port}/__faults__"
        )
    typer.echo("# Ctrl-C stops it (everything in it is lost).")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()
    typer.echo("# sandbox stopped")
