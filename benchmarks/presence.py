"""Filling one room through Redis presence: what each login costs as the room grows.

A login in escala's chat asks whether the name is taken, joins, and counts the room
(`ChatService._login`). This drives `RedisPresence` that way for N users, in batches of
`--concurrency` logins at a time (a replica's clients arriving together), against a fresh
redis-server, and reports the wall time, Redis's own CPU seconds and the time of the last
100 logins (what a login costs in a full room).

Usage (from the repository root), optionally against another checkout's code to compare:

    .venv/bin/python benchmarks/presence.py [--src OTHER/src] [--users 500,2000,5000]

Not a test: figures depend on the machine and on whatever else runs on it.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis


def _redis_cpu(info: dict[str, float]) -> float:
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def fill(url: str, users: int, concurrency: int) -> dict[str, float]:
    from escala.chat.presence import RedisPresence

    presence = RedisPresence(url)
    await presence.start()
    probe = aioredis.Redis.from_url(url)

    async def login(i: int) -> None:
        name = f"user{i}"
        if not await presence.taken("lobby", name, f"sid:s{i}"):
            await presence.join("lobby", f"s{i}", name)
        await presence.count("lobby")

    try:
        cpu_before = _redis_cpu(await probe.info("cpu"))
        started = time.perf_counter()
        last_100 = 0.0  # the batches of the last 100 users: a login into a full room
        for first in range(0, users, concurrency):
            batch_started = time.perf_counter()
            await asyncio.gather(*(login(i) for i in range(first, min(first + concurrency, users))))
            if first >= users - 100:
                last_100 += time.perf_counter() - batch_started
        ended = time.perf_counter()
        cpu_after = _redis_cpu(await probe.info("cpu"))
        assert await presence.count("lobby") == users
    finally:
        await probe.aclose()
        await presence.close()
    return {
        "users": users,
        "seconds": round(ended - started, 3),
        "redis_cpu_seconds": round(cpu_after - cpu_before, 3),
        "last_100_logins_ms": round(last_100 * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="import escala from this folder instead")
    parser.add_argument("--users", default="500,2000,5000")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parents[1]))
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    from tests.chat.servers import redis_server

    rows = []
    for users in (int(n) for n in args.users.split(",")):
        with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
            rows.append(asyncio.run(fill(url, users, args.concurrency)))
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
