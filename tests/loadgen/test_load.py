"""`escala load` against a real Socket.IO chat server, with counts known in advance."""

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from escala.cli.main import main
from escala.loadgen.runner import LoadOptions, run
from tests.servers import free_port, start, stop

CHAT_SERVER = Path(__file__).parents[2] / "benchmarks" / "servers" / "socketio_chat.py"


@pytest.fixture(scope="module")
def chat_url() -> Iterator[str]:
    """A stock python-socketio server running the official chat example's logic."""
    port = free_port()
    proc = start([sys.executable, str(CHAT_SERVER), str(port)], port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def test_every_message_reaches_every_other_client(chat_url: str) -> None:
    # 6 clients, 2 senders, 20 messages: the chat broadcasts each to the 5 other clients.
    result = run(
        LoadOptions(url=chat_url, clients=6, senders=2, rate=40, duration=6, messages=20, workers=2)
    )
    s = result.summary
    assert (s.connected, s.sent, s.delivered) == (6, 20, 100)
    assert (s.errors, s.disconnects) == (0, 0)
    assert s.latency_p50_ms is not None and s.latency_max_ms is not None
    assert 0 <= s.latency_p50_ms <= s.latency_max_ms
    assert sum(len(v) for v in result.timeline.seconds.values()) == 100


def test_cli_json_and_png(
    chat_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "run.png"
    argv = ["load", "--url", chat_url, "--clients", "3", "--senders", "1", "--rate", "20"]
    argv += ["--messages", "7", "--duration", "3s", "--report", str(png), "-o", "json"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["connected"], figures["sent"], figures["delivered"]) == (3, 7, 14)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_idle_clients_only_connect(chat_url: str) -> None:
    s = run(
        LoadOptions(url=chat_url, clients=40, senders=0, duration=2.5, workers=2, add_user=False)
    ).summary
    assert (s.connected, s.sent, s.delivered, s.errors) == (40, 0, 0, 0)
    assert s.connect_time_s is not None


@pytest.mark.parametrize("host", ["10.0.0.5", "192.168.1.10"])
def test_refuses_remote_targets(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["load", "--url", f"http://{host}:8000", "--duration", "5s"])
    assert exit_.value.code == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_unreachable_server_counts_errors() -> None:
    port = free_port()  # nothing listens there
    s = run(LoadOptions(url=f"http://127.0.0.1:{port}", clients=3, senders=0, duration=2.5)).summary
    assert (s.connected, s.errors) == (0, 3)


@pytest.mark.parametrize(
    "flag, value",
    [("--duration", "soon"), ("--duration", "inf"), ("--rate", "nan"), ("--transport", "sse")],
)
def test_bad_values_name_the_flag(
    capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    """An endless run (`--duration inf`) is refused too: the load must stop by itself."""
    with pytest.raises(SystemExit) as exit_:
        main(["load", "--url", "http://127.0.0.1:1", "--duration", "5s", flag, value])
    assert exit_.value.code == 2
    assert flag in capsys.readouterr().err


def test_report_into_a_missing_folder_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not after minutes of load, as an unexpected error."""
    png = tmp_path / "no-such-folder" / "run.png"
    argv = ["load", "--url", "http://127.0.0.1:1", "--duration", "30s", "--report", str(png)]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "--report" in capsys.readouterr().err
    assert not png.parent.exists()
