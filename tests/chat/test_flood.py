"""Floods of Socket.IO events: every event type is rate-limited per connection and per
client IP, and `typing` repeated costs the room one broadcast, not one per packet."""

import asyncio
from pathlib import Path

import orjson
import pytest

from escala.chat.engine import EngineLimits
from escala.chat.http import HttpConnection, Request, client_ip
from tests.chat.engine_harness import acks, client, engine, events, received, settle_tasks


async def test_a_typing_flood_is_one_broadcast_not_one_per_packet(tmp_path: Path) -> None:
    async with engine(tmp_path) as eng:
        flooder = await client(eng, "mal")
        bystander = await client(eng, "bo")
        for _ in range(2000):
            eng.receive(flooder, b'42["typing"]')
        await settle_tasks()
        assert events(received(bystander), "typing") == [{"username": "mal"}]
        # the flooder is told at most once a second, not 2000 times
        errors = events(received(flooder), "chat error")
        assert errors[0] == {"error": "rate limit: at most 30 events per second"}
        assert len(errors) < 10


async def test_every_event_type_is_rate_limited_per_connection(tmp_path: Path) -> None:
    async with engine(tmp_path) as eng:
        flooder = await client(eng, "mal")
        for n in range(500):
            eng.receive(flooder, b"42" + str(n).encode() + b'["users"]')
        await settle_tasks()
        replies = acks(received(flooder))
        assert len(replies) == 500  # every event acked: answered or refused, none lost
        refused = [r for r in replies if isinstance(r, dict) and "error" in r]
        assert 400 <= len(refused) < 500
        assert refused[0] == {"error": "rate limit: at most 30 events per second"}


async def test_many_connections_from_one_address_share_one_allowance(tmp_path: Path) -> None:
    limits = EngineLimits(event_rate=30, ip_rate=100)
    async with engine(tmp_path, limits) as eng:
        crowd = [await client(eng, ip="10.9.9.9") for _ in range(20)]
        elsewhere = await client(eng, ip="10.1.1.1")
        for n in range(50):  # each connection stays within its own 30/s, burst 60
            for c in crowd:
                eng.receive(c, b"42" + str(n).encode() + b'["users"]')
        eng.receive(elsewhere, b'421["users"]')
        await settle_tasks()
        replies = [r for c in crowd for r in acks(received(c))]
        refused = [r for r in replies if isinstance(r, dict) and "error" in r]
        assert len(replies) == 1000 and len(refused) >= 700
        assert refused[0] == {"error": "rate limit: at most 100 events per second from one address"}
        assert "error" not in orjson.dumps(acks(received(elsewhere))).decode()


class _Peer(asyncio.Transport):
    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("10.0.0.7", 40000) if name == "peername" else default


@pytest.mark.parametrize(
    "hops, forwarded, expected",
    [
        (0, b"6.6.6.6, 1.2.3.4", "10.0.0.7"),  # no proxy trusted: the TCP peer
        (1, b"6.6.6.6, 1.2.3.4", "1.2.3.4"),  # behind an ALB: what the ALB saw
        (2, b"6.6.6.6, 1.2.3.4", "6.6.6.6"),
        (3, b"1.2.3.4", "1.2.3.4"),  # fewer entries than hops: the leftmost
        (1, None, "10.0.0.7"),  # no header: the TCP peer
    ],
)
def test_behind_trusted_proxies_the_client_address_is_the_forwarded_one(
    hops: int, forwarded: bytes | None, expected: str
) -> None:
    """Behind the chat service's ALB every TCP peer is the balancer: the per-IP limit
    must key on the address the balancer appended, not on what a client claims."""
    conn = HttpConnection(None, 0)  # type: ignore[arg-type]
    conn.transport = _Peer()
    headers = {b"x-forwarded-for": forwarded} if forwarded is not None else {}
    assert client_ip(conn, Request("GET", "/", {}, headers), hops) == expected
