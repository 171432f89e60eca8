"""`escala upgrade cluster`: kubeadm's version rules and the spec it writes."""

from pathlib import Path

import pytest

from escala.cli.main import main
from escala.kube.versions import SUPPORTED, latest
from escala.ops.upgrade import propose
from escala.state import StateStore
from tests.ops.world import CLUSTER, build_store


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StateStore:
    """A cluster running 1.30.4, as the state store says."""
    store = build_store(tmp_path / "state")
    monkeypatch.setenv("ESCALA_STATE_STORE", store.url)
    return store


def _run(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(["upgrade", "cluster", "--name", CLUSTER, *args])
    return int(exited.value.code or 0)


def _versions(store: StateStore) -> tuple[str | None, str | None]:
    return (
        store.get_cluster(CLUSTER).spec.kubernetes_version,
        store.get_cluster(CLUSTER, completed=True).spec.kubernetes_version,
    )


def test_proposes_the_next_minor_and_changes_nothing_without_yes(
    store: StateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run() == 0
    captured = capsys.readouterr()
    assert "1.30.4" in captured.out and SUPPORTED["1.31"] in captured.out
    assert "Must specify --yes" in captured.err
    assert _versions(store) == ("1.30.4", "1.30.4")


def test_yes_writes_both_specs_and_says_what_to_run_next(
    store: StateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("--kubernetes-version", "v1.31.2", "--yes") == 0
    assert _versions(store) == ("1.31.2", "1.31.2")
    err = capsys.readouterr().err
    assert err.index("escala update cluster") < err.index("escala rolling-update cluster")


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.29.3", "downgrades are not supported"),
        ("1.32.0", "cannot skip a minor version"),
        ("1.31", "not a Kubernetes version"),
        ("2.0.0", "is not supported"),
    ],
)
def test_refuses_what_kubeadm_refuses(
    store: StateStore, capsys: pytest.CaptureFixture[str], version: str, message: str
) -> None:
    assert _run("--kubernetes-version", version, "--yes") == 2
    err = capsys.readouterr().err
    assert message in err and "--kubernetes-version" in err
    assert _versions(store) == ("1.30.4", "1.30.4")


def test_a_patch_upgrade_within_the_minor_is_allowed(store: StateStore) -> None:
    assert _run("--kubernetes-version", "1.30.9", "--yes") == 0
    assert _versions(store) == ("1.30.9", "1.30.9")


def test_nothing_to_propose_at_the_newest_version() -> None:
    assert propose(latest()) is None
