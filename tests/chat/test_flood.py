"""Floods of Socket.IO events: every event type is rate-limited per connection and per
client IP, and `typing` repeated costs the room one broadcast, not one per packet."""

from pathlib import Path

import orjson

from escala.chat.engine import EngineLimits
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
