"""How many messages/s the chat's history store takes from concurrent senders.

Each sender awaits `Store.add` in a loop, as a replica does for each sender's
`new message`; the figure is messages stored per second over all senders. Usage (from
the repository root):

    .venv/bin/python benchmarks/store_throughput.py [--senders 50] [--messages 5000]
    .venv/bin/python benchmarks/store_throughput.py --database postgresql://...

Not a test: figures depend on the machine, its disk and whatever else runs on it.
"""

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
from escala.chat.store import Store, open_store


async def run(store: Store, senders: int, messages: int) -> float:
    await store.open()
    per_sender = messages // senders
    run = uuid.uuid4().hex  # fresh clientOffsets, so a reused database stores every message

    async def sender(n: int) -> None:
        for i in range(per_sender):
            await store.add("lobby", f"user{n}", f"message {i}", f"{run}-{n}-{i}")

    try:
        started = time.perf_counter()
        await asyncio.gather(*(sender(n) for n in range(senders)))
        return per_sender * senders / (time.perf_counter() - started)
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--database", help="postgresql:// URL (default: SQLite in a tmp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.database, Path(tmp))
        rate = asyncio.run(run(store, args.senders, args.messages))
    kind = "postgresql" if args.database else "sqlite"
    print(f"{kind}: {args.senders} senders, {args.messages} messages: {rate:.0f} messages/s")


if __name__ == "__main__":
    main()
