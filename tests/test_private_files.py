"""The one file writer: atomic replace, secrets at 0600 from their first byte."""

import os
import stat
from pathlib import Path

import pytest

from escala.private_files import write_atomic, write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_secret_file_and_its_new_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "credentials"
    write_private(path, b"[escala]\naws_secret_access_key = s3cr3t\n")
    assert path.read_bytes().endswith(b"s3cr3t\n")
    assert (_mode(path), _mode(path.parent)) == (0o600, 0o700)
    assert os.listdir(path.parent) == ["credentials"], "no temporary file is left behind"


def test_replacing_a_readable_file_makes_it_private(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, b"new")
    assert (path.read_text(), _mode(path)) == ("new", 0o600)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(path, "not bytes", 0o644)  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["config"]


def test_a_public_file_gets_the_mode_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "cluster-completed.spec"
    write_atomic(path, b"kind: Cluster\n", 0o644)
    assert _mode(path) == 0o644
