"""A state store in a local directory (`file:///path`), same layout as S3."""

from pathlib import Path
from urllib.parse import urlparse

from escala.errors import StateStoreError, UsageError
from escala.private_files import PRIVATE, TMP_SUFFIX, write_atomic


class DirectoryStore:
    def __init__(self, url: str) -> None:
        path = urlparse(url).path
        if not path or path == "/":
            raise UsageError(f"state store {url!r}: give a directory, e.g. file:///var/escala")
        self.url = url.rstrip("/")
        self.root = Path(path)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise UsageError(f"state store key {key!r} escapes {self.root}")
        return path

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StateStoreError(f"reading {key} from {self.url}: {e}") from e

    def write(self, key: str, data: bytes, secret: bool = False) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data, PRIVATE if secret else 0o644)
        except OSError as e:
            raise StateStoreError(f"writing {key} to {self.url}: {e}") from e

    def list(self, prefix: str) -> list[str]:
        if not self.root.exists():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not k.endswith(TMP_SUFFIX))

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break
