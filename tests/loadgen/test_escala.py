"""`escala load` against escala's own chat, on both servers, with counts known in advance."""

import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from escala.cli.main import main
from escala.loadgen.runner import LoadOptions, run
from tests.chat.servers import replicas


@pytest.fixture
def escala_url(tmp_path: Path) -> Iterator[str]:
    with replicas(tmp_path, "--rate", "1000", count=1) as (one,):
        yield one.url


def test_anonymous_listeners_get_every_message_of_a_logged_in_sender(escala_url: str) -> None:
    # escala refuses `new message` before `add user`: with --no-add-user only the sender
    # logs in, and each of its 15 messages reaches the 4 other clients of the lobby.
    s = run(
        LoadOptions(
            url=escala_url, clients=5, senders=1, rate=30, duration=5, messages=15, add_user=False
        )
    ).summary
    assert (s.connected, s.sent, s.delivered) == (5, 15, 60)
    assert (s.errors, s.disconnects) == (0, 0)


def test_a_room_run_stays_in_its_room(escala_url: str) -> None:
    # A run in room "bench" and one in the lobby at the same time: each run's clients get
    # exactly their own run's messages (10 to 3 others; 5 to 1 other), none of the other's.
    in_lobby: list[int] = []
    lobby = threading.Thread(
        target=lambda: in_lobby.append(
            run(
                LoadOptions(url=escala_url, clients=2, senders=1, rate=5, duration=6, messages=5)
            ).summary.delivered
        )
    )
    lobby.start()
    s = run(
        LoadOptions(
            url=escala_url, clients=4, senders=1, rate=5, duration=6, messages=10, room="bench"
        )
    ).summary
    lobby.join()
    assert (s.connected, s.sent, s.delivered, s.errors) == (4, 10, 30, 0)
    assert in_lobby == [5]


def test_a_refused_join_is_a_connect_error(escala_url: str) -> None:
    s = run(
        LoadOptions(url=escala_url, clients=2, senders=1, rate=5, duration=3, room="x" * 500)
    ).summary
    assert (s.connected, s.errors) == (0, 2)


def test_refusals_are_counted_by_cause_and_add_up_to_what_was_sent(tmp_path: Path) -> None:
    """A sender faster than the chat's --rate: what the server refused is counted apart,
    named by its error, and sent = accepted + refused; only accepted messages arrive."""
    with replicas(tmp_path, "--rate", "5", count=1) as (one,):
        s = run(
            LoadOptions(url=one.url, clients=3, senders=1, rate=40, duration=4, messages=60)
        ).summary
    assert s.sent == 60
    assert s.refused and set(s.refused) == {"rate limit: at most 5 messages per second"}
    assert s.accepted + sum(s.refused.values()) == s.sent and s.unanswered == 0
    assert s.delivered == 2 * s.accepted


def test_polling_clients_get_every_message(escala_url: str) -> None:
    s = run(
        LoadOptions(
            url=escala_url,
            clients=5,
            senders=1,
            rate=30,
            duration=5,
            messages=15,
            transport="polling",
        )
    ).summary
    assert (s.connected, s.sent, s.accepted, s.delivered) == (5, 15, 15, 60)
    assert (s.errors, s.disconnects) == (0, 0)


def test_a_chat_that_authenticates_is_loaded_with_a_token_per_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the server's secret each client connects as user load-N; without it, every
    connect is refused by the server, and the table says so."""
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_urlsafe(32) + "\n")
    argv = ["load", "--clients", "4", "--senders", "1", "--rate", "20", "--messages", "8"]
    argv += ["--duration", "2s", "-o", "json"]
    with replicas(tmp_path, "--auth-secret-file", str(secret), count=1) as (one,):
        with_token = _load(capsys, [*argv, "--url", one.url, "--auth-secret-file", str(secret)])
        without = _load(capsys, [*argv, "--url", one.url])
    assert (with_token["connected"], with_token["sent"], with_token["delivered"]) == (4, 8, 24)
    assert with_token["errors"] == 0
    assert (without["connected"], without["errors"]) == (0, 4)


def _load(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "eyJ" not in out  # no token is shown
    return json.loads(out)
