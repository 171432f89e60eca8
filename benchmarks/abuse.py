"""Abuse scenarios against `escala chat serve`: what a hostile client costs the server.

Three scenarios from issue 17, each on a fresh server process, each reporting the server's
RSS before, at its peak and after, and whether a normal client still gets answers:

- `replay`: a 300k-message history, and five clients that connect with
  `auth: {serverOffset: 0}` and never read.
- `typing`: one client sends 200k `typing` frames as fast as it can; ten bystanders in the
  room count how many `typing` broadcasts reach them.
- `slow`: a talker sends 100 KB messages while five clients in the room never read; the
  server's log says how far behind each was when dropped.

Usage (from the repository root), optionally against another checkout's code to compare:

    .venv/bin/python benchmarks/abuse.py [--src /work/main/src] [--scenarios replay,typing,slow]

Not a test: figures depend on the machine and on whatever else runs on it.
"""

import argparse
import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).parents[1]))
from benchmarks.run import rss_kib
from tests.servers import free_port, wait_for_port

from escala.chat.store import SQLITE_MIGRATIONS


class Server:
    """A chat server whose RSS is sampled every 50 ms while it runs."""

    def __init__(self, src: str | None, data: Path, *flags: str) -> None:
        self.port = free_port()
        self.log = data / "server.log"
        env = dict(os.environ, **({"PYTHONPATH": src} if src else {}))
        argv = [sys.executable, "-m", "escala", "chat", "serve", "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*argv, "--data-dir", str(data), *flags], stdout=out, stderr=out, env=env
            )
        wait_for_port(self.port, self.proc)
        self.url = f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"
        self.peak = self.rss()
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def rss(self) -> int:
        return rss_kib(self.proc.pid)

    def _sample(self) -> None:
        while self._sampling and self.proc.poll() is None:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.05)

    def stop(self) -> str:
        self._sampling = False
        self.proc.terminate()
        self.proc.wait(30)
        return self.log.read_text()


@contextmanager
def server(src: str | None, *flags: str, history: int = 0) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="escala-abuse-") as tmp:
        if history:
            fill_history(Path(tmp) / "chat.sqlite3", history)
        s = Server(src, Path(tmp), *flags)
        try:
            yield s
        finally:
            s.stop()


def fill_history(path: Path, count: int) -> None:
    """`count` lobby messages, written straight into a history file at schema version 1."""
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE schema_version (version INTEGER NOT NULL);")
    conn.executescript(SQLITE_MIGRATIONS[0] + "; INSERT INTO schema_version VALUES (1);")
    rows = ((f"message {n} " + "x" * 100, time.time()) for n in range(count))
    conn.executemany(
        "INSERT INTO messages (room, username, text, ts) VALUES ('lobby', 'old', ?, ?)", rows
    )
    conn.commit()
    conn.close()


async def socketio(
    url: str, auth: dict[str, object] | None = None, wait: bool = True, **kw: object
) -> ClientConnection:
    """A raw websocket that sent CONNECT; `wait`: until it is acknowledged (a client that
    never reads does not wait: the replay may come before the acknowledgement)."""
    ws = await connect(url, max_size=None, **kw)  # type: ignore[arg-type]
    await ws.recv()  # the Engine.IO open packet
    await ws.send("40" + (json.dumps(auth) if auth else ""))
    while wait and not str(await ws.recv()).startswith("40"):
        pass
    return ws


async def round_trip(ws: ClientConnection, ack: int, timeout: float = 10) -> float | None:
    """Seconds for a `users` call to be acked (None: not within `timeout`); answers pings."""
    started = time.monotonic()
    await ws.send(f'42{ack}["users"]')
    try:
        async with asyncio.timeout(timeout):
            while True:
                frame = str(await ws.recv())
                if frame == "2":
                    await ws.send("3")
                elif frame.startswith(f"43{ack}"):
                    return time.monotonic() - started
    except TimeoutError:
        return None


async def newcomer(url: str) -> float | str:
    """Seconds for a new client to connect and get an ack, or why it could not."""
    started = time.monotonic()
    try:
        ws = await socketio(url, open_timeout=30)
    except (TimeoutError, OSError) as e:
        return f"could not connect: {e}"
    answered = await round_trip(ws, 1, timeout=30)
    await ws.close()
    return "no ack in 30 s" if answered is None else time.monotonic() - started


def figures(s: Server, before: int, **extra: object) -> dict[str, object]:
    return {
        "rss_before_mb": before / 1024,
        "rss_peak_mb": s.peak / 1024,
        "rss_after_mb": s.rss() / 1024,
        **extra,
    }


async def replay(src: str | None) -> dict[str, object]:
    with server(src, history=300_000) as s:
        before = s.rss()
        normal = await socketio(s.url)
        # never read: websockets stops reading the socket once its queue of 1 is full
        readers = [
            await socketio(s.url, {"serverOffset": 0}, wait=False, max_queue=1) for _ in range(5)
        ]
        await asyncio.sleep(15)
        answered = await round_trip(normal, 1)
        for ws in readers:
            await ws.close()
        await asyncio.sleep(2)
        return figures(s, before, normal_client_ack_s=answered)


async def typing(src: str | None) -> dict[str, object]:
    with server(src) as s:
        before = s.rss()
        bystanders = [await socketio(s.url) for _ in range(10)]
        for n, ws in enumerate(bystanders):
            await ws.send(f'42["add user","by{n}"]')
        flooder = await socketio(s.url)
        await flooder.send('42["add user","flood"]')
        await asyncio.sleep(1)
        counts = [0] * len(bystanders)

        async def count(n: int, ws: ClientConnection) -> None:
            async for frame in ws:
                if str(frame).startswith('42["typing"'):
                    counts[n] += 1
                elif frame == "2":
                    await ws.send("3")

        counting = [asyncio.create_task(count(n, ws)) for n, ws in enumerate(bystanders)]
        started = time.monotonic()
        for _ in range(200):
            for _ in range(1000):
                await flooder.send('42["typing"]')
        sent_s = time.monotonic() - started
        answered = await newcomer(s.url)
        await asyncio.sleep(3)
        for task in counting:
            task.cancel()
        return figures(
            s,
            before,
            flood_sent_s=sent_s,
            typing_per_bystander=max(counts),
            newcomer_connect_and_ack_s=answered,
        )


async def slow(src: str | None) -> dict[str, object]:
    flags = ("--max-message", "100000", "--rate", "1000", "--ping-interval", "300")
    with server(src, *flags) as s:
        before = s.rss()
        talker = await socketio(s.url)
        await talker.send('42["add user","talker"]')
        silent = [await socketio(s.url, max_queue=1) for _ in range(5)]
        for ws in silent:
            await ws.send('42["add user","silent"]')
        for n in range(400):  # ~40 MB for each silent client
            await talker.send("42" + json.dumps(["new message", "x" * 100_000]))
            if n % 50 == 0:
                await asyncio.sleep(0.1)
        await asyncio.sleep(3)
        answered = await round_trip(talker, 1, timeout=30)
        result = figures(s, before, normal_client_ack_s=answered)
        logged = s.log.read_text()
    # What was still unsent when the client was dropped (the log says it, before and after)
    behind = [int(b) for b in re.findall(r"dropping a client (\d+) bytes behind", logged)]
    result["dropped"] = len(behind)
    result["behind_when_dropped_mb"] = [round(b / 1e6, 1) for b in behind]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="run the server from this src/ (another checkout)")
    parser.add_argument("--scenarios", default="replay,typing,slow")
    args = parser.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for name in args.scenarios.split(","):
        result = asyncio.run({"replay": replay, "typing": typing, "slow": slow}[name](args.src))
        rounded = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}
        print(name, json.dumps(rounded), flush=True)


if __name__ == "__main__":
    main()
