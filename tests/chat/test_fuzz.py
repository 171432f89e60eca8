"""Property-based fuzzing (hypothesis) of the Engine.IO/Socket.IO codec and of the chat's
event handlers behind it: whatever a client sends, the codec raises nothing but
`BadPacket`, the engine never lets an exception out (no traceback, no 1011), the
handlers log no failure, and memory stays bounded. Kept small (a few seconds); a longer
campaign is a matter of raising `max_examples`."""

import asyncio
import contextlib
import logging
import tracemalloc
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escala.chat import rules, wire
from escala.chat.engine import EngineLimits
from tests.chat.engine_harness import client, engine, settle_tasks

EVENTS = ["add user", "join", "users", "rooms", "new message", "typing", "stop typing"]
EVENTS += ["chat message", "history", "unknown"]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def socketio_packets(draw: st.DrawFn) -> bytes:
    """Engine.IO MESSAGE packets a client could send: mostly well-formed events with odd
    arguments, some of every other packet type, some raw garbage."""
    kind = draw(st.sampled_from([b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"9"]))
    prefix = draw(st.sampled_from([b"", b"1-", b"2-", b"99-"])) if kind in b"56" else b""
    namespace = draw(st.sampled_from([b"", b"/", b"/admin,"]))
    ack = draw(st.none() | st.integers(0, 10**20).map(str) | st.integers(17, 6000).map("9".__mul__))
    body = draw(
        st.builds(
            lambda n, a: orjson.dumps([n, *a]),
            st.sampled_from(EVENTS),
            st.lists(json_values, max_size=3),
        )
        | st.builds(orjson.dumps, json_values)
        | st.binary(max_size=30)
        | st.integers(1, 100_000).map(lambda depth: b"[" * depth + b"]" * depth)
    )
    head = kind + prefix + namespace + (ack.encode() if ack is not None else b"")
    return b"4" + head + body


frames = st.lists(
    socketio_packets() | st.binary(max_size=40) | st.builds(bytearray, st.binary(max_size=20)),
    max_size=25,
)


@given(st.binary(max_size=400) | socketio_packets())
@settings(max_examples=200, deadline=None)
def test_the_codec_refuses_garbage_with_bad_packet_only(data: bytes) -> None:
    for parse in (lambda: wire.parse(data[1:]), lambda: wire.decode_payload(data)):
        with contextlib.suppress(wire.BadPacket):
            parse()


def test_the_engine_and_handlers_survive_any_sequence_of_packets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two logged-in clients in one room; one sends whatever hypothesis makes up."""
    loop = asyncio.new_event_loop()
    open_limits = EngineLimits(event_rate=1e6, ip_rate=1e6)
    chat = rules.Limits(rate_per_second=1e6, burst=10**6)
    running = engine(tmp_path, open_limits, chat)
    eng = loop.run_until_complete(running.__aenter__())
    caplog.set_level(logging.INFO)

    async def feed(packets: list[bytes | bytearray]) -> None:
        fuzzer, bystander = await client(eng, "fuzz"), await client(eng, "bo")
        for packet in packets:
            if not fuzzer.closed and not eng.receive(fuzzer, packet):
                eng.close(fuzzer)
        await settle_tasks()
        for session in (fuzzer, bystander):
            eng.close(session)
        await settle_tasks()

    @given(frames)
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def run(packets: list[bytes | bytearray]) -> None:
        loop.run_until_complete(feed(packets))

    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        loop.run_until_complete(running.__aexit__(None, None, None))
        loop.close()
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert failures == [], failures[0].getMessage() if failures else None
    assert not eng.sessions
    assert peak < 64 * 1024 * 1024
