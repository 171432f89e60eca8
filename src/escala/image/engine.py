"""The container engine on this machine (podman, docker or buildah), driven by its CLI.

The three accept the same build flags; they differ in how they report a pushed digest
(podman and buildah write it to `--digestfile`, docker prints it) and in where a login
is kept. A login is kept only for one push: the engine's auth file lives in a private
temporary directory (REGISTRY_AUTH_FILE for podman/buildah, DOCKER_CONFIG for docker)
removed afterwards, and the password reaches the engine on standard input only.
"""

import collections
import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from escala.errors import EscalaError, UsageError

ENGINES = ("podman", "docker", "buildah")
INSTALL = (
    "install one: `apt-get install podman` (or buildah), or Docker Engine "
    "(https://docs.docker.com/engine/install/)"
)
LAST_LINES = 15
_DOCKER_DIGEST = re.compile(r"digest: (sha256:[a-f0-9]{64})")


class EngineMissing(UsageError):
    """No container engine to build or push with (exit 2: install one)."""


class EngineFailed(EscalaError):
    """The engine ran and failed (a build step, a refused push): exit 1."""


def _tail(lines: Sequence[str]) -> str:
    return "\n".join(f"  | {line}" for line in lines[-LAST_LINES:])


@dataclasses.dataclass(frozen=True)
class Engine:
    name: str
    binary: str

    @property
    def _oci_tools(self) -> bool:
        return self.name in ("podman", "buildah")

    def run(
        self,
        args: Sequence[str],
        doing: str,
        *,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
        progress: Callable[[str], None] = lambda _: None,
    ) -> list[str]:
        """Run the engine, streaming its output lines to `progress`; EngineFailed with
        the last lines when it fails. `stdin` is the one way a secret goes in."""
        seen: collections.deque[str] = collections.deque(maxlen=200)
        with subprocess.Popen(
            [self.binary, *args],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        ) as process:
            if stdin is not None:
                assert process.stdin is not None
                process.stdin.write(stdin)
                process.stdin.close()
            assert process.stdout is not None
            for line in process.stdout:
                seen.append(line.rstrip())
                progress(line.rstrip())
        if process.returncode != 0:
            raise EngineFailed(
                f"{doing} failed ({self.name} exited {process.returncode}); its last lines:\n"
                + _tail(list(seen))
            )
        return list(seen)

    def build(
        self,
        context: Path,
        tags: Sequence[str],
        build_args: Mapping[str, str],
        secrets: Mapping[str, Path],
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        args = ["build", "--file", str(context / "Dockerfile")]
        env = {}
        if self._oci_tools:
            # Docker's image format: OCI's has no HEALTHCHECK and podman would drop it.
            args += ["--format", "docker", "--layers"]
        else:
            env["DOCKER_BUILDKIT"] = "1"  # RUN --mount (pip's cache, the CA secret)
        for tag in tags:
            args += ["--tag", tag]
        for key, value in sorted(build_args.items()):
            args += ["--build-arg", f"{key}={value}"]
        for name, path in sorted(secrets.items()):
            args += ["--secret", f"id={name},src={path}"]
        self.run([*args, str(context)], "building the image", env=env, progress=progress)

    def has_image(self, reference: str) -> bool:
        check = {
            "podman": ["image", "exists", reference],
            "docker": ["image", "inspect", reference],
            "buildah": ["inspect", "--type", "image", reference],
        }[self.name]
        done = subprocess.run([self.binary, *check], capture_output=True, check=False)
        return done.returncode == 0

    def tag(self, source: str, target: str) -> None:
        self.run(["tag", source, target], f"tagging {source} as {target}")

    def untag(self, reference: str) -> None:
        """Drop one name; the image stays under its others."""
        subprocess.run([self.binary, "rmi", reference], capture_output=True, check=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[dict[str, str]]:
        """An environment whose logins vanish afterwards (a private temporary dir)."""
        with tempfile.TemporaryDirectory(prefix="escala-auth-") as auth:
            auth_file = Path(auth) / "auth.json"
            auth_file.write_text('{"auths": {}}\n')  # podman wants it to exist
            yield {"REGISTRY_AUTH_FILE": str(auth_file), "DOCKER_CONFIG": auth}

    def _tls(self, insecure: bool) -> list[str]:
        # docker decides per registry in its daemon (127.0.0.0/8 is allowed plain HTTP).
        return ["--tls-verify=false"] if insecure and self._oci_tools else []

    def login(
        self, registry: str, username: str, password: str, env: Mapping[str, str], *,
        insecure: bool,
    ) -> None:  # fmt: skip
        """Log in for the session `env`; the password goes on standard input only."""
        self.run(
            ["login", *self._tls(insecure), "--username", username, "--password-stdin", registry],
            f"logging {self.name} in to {registry}",
            stdin=password + "\n",
            env=env,
        )

    def push(
        self,
        reference: str,
        env: Mapping[str, str],
        *,
        insecure: bool,
        progress: Callable[[str], None] = lambda _: None,
    ) -> str:
        """Push `reference`; the digest (`sha256:...`) of the manifest the registry holds."""
        doing = f"pushing {reference}"
        if not self._oci_tools:
            lines = self.run(["push", reference], doing, env=env, progress=progress)
            found = [m[1] for line in lines if (m := _DOCKER_DIGEST.search(line))]
            if not found:
                raise EngineFailed(f"{doing}: docker printed no digest:\n{_tail(lines)}")
            return found[-1]
        with tempfile.TemporaryDirectory(prefix="escala-push-") as scratch:
            digest_file = Path(scratch) / "digest"
            self.run(
                ["push", *self._tls(insecure), "--digestfile", str(digest_file), reference],
                doing,
                env=env,
                progress=progress,
            )
            return digest_file.read_text().strip()


def _usable(name: str, binary: str) -> bool:
    """Docker's CLI alone is not an engine: its daemon must answer."""
    if name != "docker":
        return True
    done = subprocess.run(
        [binary, "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        timeout=20,
        check=False,
    )
    return done.returncode == 0


def find_engine(wanted: str | None = None) -> Engine:
    """`wanted` (podman, docker or buildah), or the first of them this machine has."""
    if wanted is not None and wanted not in ENGINES:
        raise UsageError(f"--engine: {wanted!r}; choose one of {', '.join(ENGINES)}")
    skipped = []
    for name in [wanted] if wanted else ENGINES:
        binary = shutil.which(name)
        if binary is None:
            continue
        if _usable(name, binary):
            return Engine(name, binary)
        skipped.append(f"{name} is installed but its daemon does not answer (is it running?)")
    if wanted:
        reason = skipped[0] if skipped else f"{wanted} is not installed (not on PATH)"
        raise EngineMissing(f"--engine {wanted}: {reason}; {INSTALL}")
    why = f" ({'; '.join(skipped)})" if skipped else ""
    raise EngineMissing(
        f"no container engine found: none of {', '.join(ENGINES)} is on PATH{why}; {INSTALL}"
    )
