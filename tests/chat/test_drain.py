"""SIGTERM on a real `escala chat serve`: not ready, clients moved away, history kept."""

import asyncio
import signal
import time
from pathlib import Path

import pytest

from tests.chat.servers import logged_replica, readyz, replicas
from tests.chat.test_server import Client


async def test_sigterm_drains_then_exits_and_history_survives(
    tmp_path: Path, transports: list[str]
) -> None:
    with replicas(tmp_path, "--drain-timeout", "4", count=1) as (replica,):
        c = Client()
        await c.sio.connect(replica.url, transports=transports)
        await c.sio.call("add user", "ana")
        await c.sio.call("chat message", ("said before SIGTERM", "c-1"))
        assert await asyncio.to_thread(readyz, replica.url) == 200

        replica.proc.send_signal(signal.SIGTERM)
        statuses = [await asyncio.to_thread(readyz, replica.url)]
        deadline = time.monotonic() + 10
        while statuses[-1] == 200 and time.monotonic() < deadline:
            statuses.append(await asyncio.to_thread(readyz, replica.url))
        assert statuses[-1] == 503  # draining: balancers stop sending clients here

        # Dropped like a broken transport, not a server goodbye ("server disconnect"),
        # so Socket.IO clients reconnect (through the balancer, to another replica).
        assert await c.next("disconnect") in ("transport close", "transport error")
        c.sio.reconnection = False
        assert await asyncio.to_thread(replica.proc.wait, 15) == 0
        await c.sio.disconnect()

    # Same data dir, new process: the message was flushed before exit.
    with replicas(tmp_path, count=1) as (again,):
        late = Client()
        await late.sio.connect(again.url, auth={"serverOffset": 0})
        try:
            assert (await late.next("chat message"))[0] == "said before SIGTERM"
        finally:
            await late.sio.disconnect()


@pytest.mark.parametrize("gap_s", [0.0, 0.05, 0.2])
def test_a_second_sigterm_stops_cleanly(tmp_path: Path, gap_s: float) -> None:
    """`timeout`, and some supervisors, signal the process and then its group: the second
    SIGTERM, whenever it lands, stops at once, and the stores still close cleanly."""
    with logged_replica(tmp_path, "--drain-timeout", "4") as replica:
        replica.proc.send_signal(signal.SIGTERM)
        time.sleep(gap_s)
        replica.proc.send_signal(signal.SIGTERM)
        assert replica.proc.wait(timeout=15) == 0
    assert "Traceback" not in replica.log.read_text()
