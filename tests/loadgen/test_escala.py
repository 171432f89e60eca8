"""`escala load` against escala's own chat, on both servers, with counts known in advance."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from escala.loadgen.runner import LoadOptions, run
from tests.chat.servers import replicas


@pytest.fixture(params=["uvicorn", "fast"])
def escala_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with replicas(tmp_path, "--rate", "1000", "--server", request.param, count=1) as (one,):
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
