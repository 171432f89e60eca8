"""The one way escala writes a file on the user's disk: atomically, private when secret.

Credentials profiles, kubeconfigs (admin certificates), access grants and the
`file://` state store all go through here, so none of them is ever seen half-written
(a crash leaves the old file or the new one, never a mix) and a secret is never
readable by anyone else, not even for the moment between create and chmod: the
temporary file is born 0600 in the target's own directory (so the rename is atomic)
and is flushed to disk before it replaces the target.
"""

import contextlib
import os
import tempfile
from pathlib import Path

PRIVATE = 0o600
TMP_SUFFIX = ".escala-tmp"


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` with `data` at `mode`; the parent directory must exist.

    Temporary files end in TMP_SUFFIX, for readers that list a directory.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file (mode 0600), creating its directory as 0700 when missing."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, data, PRIVATE)
