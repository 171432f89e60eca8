"""Real chat replicas, PostgreSQL and Redis servers for the chat tests.

PostgreSQL refuses to run as root, so when the tests run as root (CI does) initdb and
postgres run as the `postgres` user that Debian's package creates.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, start, stop, wait_for_port

PG_USER = "escala"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"{name} not found; install it: apt-get install -y postgresql")
    return found[-1]


def _as_postgres() -> dict[str, object]:
    """Popen arguments that drop root to the `postgres` user; nothing when not root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres"}


@dataclass
class Postgres:
    url: str
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open client connections don't hold it up."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=30)


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on a free loopback port."""
    data = Path(tempfile.mkdtemp(prefix="escala-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(data, pw.pw_uid, pw.pw_gid)
    initdb = [_pg_bin("initdb"), "-D", str(data / "db"), "-U", PG_USER, "-A", "trust"]
    done = subprocess.run(
        [*initdb, "-E", "UTF8", "--no-sync", "--no-instructions"],
        capture_output=True,
        text=True,
        cwd=data,  # the postgres user may not be allowed into the checkout
        **_as_postgres(),  # type: ignore[call-overload]
    )
    if done.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr}")
    port = free_port()
    argv = [_pg_bin("postgres"), "-D", str(data / "db"), "-p", str(port), "-h", "127.0.0.1"]
    argv += ["-k", str(data), "-c", "fsync=off", "-c", "full_page_writes=off"]
    server = Postgres(
        f"postgresql://{PG_USER}@127.0.0.1:{port}", start(argv, port, cwd=data, **_as_postgres())
    )
    try:
        _wait_until_accepting(port)
        yield server
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def _wait_until_accepting(port: int, timeout: float = 30) -> None:
    """The port opens before PostgreSQL takes queries ("the database system is starting up")."""
    deadline = time.monotonic() + timeout
    argv = [_pg_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER]
    while subprocess.run(argv).returncode != 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL on port {port} not ready after {timeout}s")
        time.sleep(0.1)


def create_database(base_url: str, name: str) -> str:
    """A new empty database on the server at `base_url`; returns its URL."""
    port = base_url.rsplit(":", 1)[1]
    subprocess.run(
        [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", port, "-U", PG_USER, name],
        check=True,
        capture_output=True,
    )
    return f"{base_url}/{name}"


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A redis-server on a free loopback port, no persistence; yields its URL."""
    port = free_port()
    proc = start(redis_argv(port, tmp), port)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(proc)


def redis_argv(port: int, tmp: Path) -> list[str]:
    """The command line of a redis-server on loopback `port`, keeping nothing on disk."""
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    return [*argv, "--save", "", "--appendonly", "no", "--dir", str(tmp)]


# The closing SIGTERM of a test's replica drains: with the default --drain-timeout (10 s)
# that spreads the sessions left over 4 s, per replica. A test of the drain gives its own
# value in `flags`, which comes later on the command line and wins.
QUICK_DRAIN = ("--drain-timeout", "1")


def serve_argv(port: int, data_dir: Path, *flags: str) -> list[str]:
    """The command line of one `escala chat serve` replica for the tests."""
    return [
        sys.executable,
        "-m",
        "escala",
        "chat",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *QUICK_DRAIN,
        *flags,
    ]


@dataclass
class LoggedReplica:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path  # everything it printed, for tests that look for tracebacks


@contextmanager
def logged_replica(tmp: Path, *flags: str) -> Iterator[LoggedReplica]:
    """One replica whose output goes to a file."""
    port = free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(serve_argv(port, tmp, *flags), stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, proc)
            yield LoggedReplica(f"http://127.0.0.1:{port}", proc, log)
        finally:
            stop(proc)


@dataclass
class Replica:
    url: str
    proc: subprocess.Popen[bytes]


@contextmanager
def replicas(tmp: Path, *flags: str, count: int = 2) -> Iterator[list[Replica]]:
    """`count` chat replicas with the same flags, each with its own data dir."""
    running: list[Replica] = []
    try:
        for n in range(count):
            port = free_port()
            proc = start(serve_argv(port, tmp / f"replica-{n}", *flags), port)
            running.append(Replica(f"http://127.0.0.1:{port}", proc))
        yield running
    finally:
        for replica in running:
            stop(replica.proc)


def readyz(url: str) -> int:
    """The HTTP status of a replica's /readyz."""
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code
