"""Real podman, a Debian-built base image and Debian's docker-registry, for the image tests.

No container registry is reachable here, so the base image is made from Debian packages
with mmdebstrap and imported into podman. It is made once per machine: kept as the
podman image BASE_IMAGE, and as a tarball under ~/.cache/escala to import again after
podman's storage was reset. The chat's image is built once per session, from this
checkout, on that base.
"""

import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from escala.image.engine import Engine, find_engine
from escala.ops.image import BuildOptions, Built, build_image
from tests.servers import free_port, start, stop

ROOT = Path(__file__).parents[2]
BASE_IMAGE = "localhost/escala-test-base:bookworm"
BASE_TARBALL = Path.home() / ".cache" / "escala" / "base-bookworm.tar"
TOOLS = ("podman", "runc", "mmdebstrap", "docker-registry")


@pytest.fixture(scope="session")
def podman() -> Iterator[Engine]:
    """podman with the test machines' containers.conf, or a skip naming what is missing
    (`make test` installs them; a skip means apt could not)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (`make system-packages` installs them)")
    saved = os.environ.get("CONTAINERS_CONF")
    os.environ["CONTAINERS_CONF"] = str(Path(__file__).parent / "containers.conf")
    yield find_engine("podman")
    if saved is None:
        os.environ.pop("CONTAINERS_CONF", None)
    else:
        os.environ["CONTAINERS_CONF"] = saved


def _make_base_tarball() -> None:
    BASE_TARBALL.parent.mkdir(parents=True, exist_ok=True)
    partial = BASE_TARBALL.with_suffix(".partial")
    subprocess.run(
        ["mmdebstrap", "--quiet", "--variant=apt", "--format=tar",
         "--include=python3,python3-venv,ca-certificates", "bookworm", str(partial)],
        check=True, timeout=900,
    )  # fmt: skip
    partial.rename(BASE_TARBALL)


@pytest.fixture(scope="session")
def base_image(podman: Engine) -> str:
    """A Debian bookworm image with python3 and venv, the Dockerfile's BASE_IMAGE here."""
    if not podman.has_image(BASE_IMAGE):
        if not BASE_TARBALL.exists():
            _make_base_tarball()
        podman.run(["import", str(BASE_TARBALL), BASE_IMAGE], "importing the base image")
    return BASE_IMAGE


@pytest.fixture(scope="session")
def chat_image(base_image: str) -> Built:
    """The chat's image, built from this checkout by `escala image build`'s code."""
    return build_image(BuildOptions(context=ROOT, base_image=base_image, engine="podman"))


@pytest.fixture(scope="session")
def registry(podman: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's docker-registry (the CNCF distribution registry) on a loopback port,
    plain HTTP, filesystem storage: `host:port`."""
    folder = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = start(["docker-registry", "serve", str(config)], port)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/") as answer:
        assert answer.status == 200
    yield f"127.0.0.1:{port}"
    stop(proc)
