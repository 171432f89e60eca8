"""Run the `escala` command in-process through its real entry point and error boundary."""

import dataclasses

import pytest

from escala.cli.main import main


@dataclasses.dataclass
class Result:
    code: int
    out: str
    err: str


def escala(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    else:
        code = 0
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def public_key() -> str:
    """A fresh, real OpenSSH public key line (EC2 ImportKeyPair parses it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return line.decode() + " admin@escala\n"
