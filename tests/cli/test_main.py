"""The entry point: help, version, and the exit code of every kind of failure."""

import subprocess
import sys


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "escala", *args], capture_output=True, text=True, env=env
    )


def test_help_lists_the_command_families() -> None:
    out = run("--help")
    assert out.returncode == 0
    for family in ("create", "get", "update", "delete", "rolling-update", "validate"):
        assert family in out.stdout


def test_unknown_flag_exits_2() -> None:
    out = run("--no-such-flag")
    assert out.returncode == 2
    assert "No such option" in out.stderr
