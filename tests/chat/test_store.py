"""Both history stores: order, per-room history, exactly-once on client offsets, schema."""

import asyncio
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from escala.chat.pg_store import PostgresStore
from escala.chat.store import SQLITE_MIGRATIONS, Retention, SQLiteStore, Store, StoreError
from tests.chat.servers import serve_argv
from tests.servers import free_port


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    """A factory for stores that share one history (SQLite file or PostgreSQL database)."""
    if request.param == "sqlite":
        return lambda: SQLiteStore(tmp_path / "h.sqlite3")
    url = request.getfixturevalue("postgres_url")
    return lambda: PostgresStore(url)


async def test_history_and_exactly_once(make_store: Callable[[], Store]) -> None:
    store: Store = make_store()
    await store.open()
    try:
        first, created = await store.add("lobby", "ana", "hi", client_offset="c-1")
        again, created_again = await store.add("lobby", "ana", "hi", client_offset="c-1")
        assert created and not created_again
        assert again["id"] == first["id"]
        await store.add("other", "bo", "elsewhere")
        second, _ = await store.add("lobby", "bo", "hello")
        assert [r["text"] for r in await store.recent("lobby", 10)] == ["hi", "hello"]
        assert [r["text"] for r in await store.recent("lobby", 1)] == ["hello"]
        assert [r["id"] for r in await store.since("lobby", first["id"], 10)] == [second["id"]]
        assert await store.ping()
    finally:
        await store.close()
    reopened: Store = make_store()
    await reopened.open()
    try:
        assert len(await reopened.recent("lobby", 10)) == 2
    finally:
        await reopened.close()


async def test_concurrent_senders_and_retries_store_each_message_once(
    make_store: Callable[[], Store],
) -> None:
    """Many senders at once (SQLite writes them in shared transactions), each retrying."""
    store: Store = make_store()
    await store.open()
    try:
        sends = [store.add("lobby", f"u{n % 7}", f"m{n}", f"c-{n}") for n in range(200)]
        retries = [store.add("lobby", f"u{n % 7}", f"m{n}", f"c-{n}") for n in range(200)]
        results = await asyncio.gather(*sends, *retries)
        assert sum(created for _, created in results) == 200
        by_offset = {}
        for n, (rec, _) in enumerate(results):
            by_offset.setdefault(n % 200, set()).add(rec["id"])
        assert all(len(ids) == 1 for ids in by_offset.values())
        history = await store.recent("lobby", 500)
        assert sorted(r["text"] for r in history) == sorted(f"m{n}" for n in range(200))
    finally:
        await store.close()


async def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (?)", (len(SQLITE_MIGRATIONS) + 1,))
    store = SQLiteStore(path)
    with pytest.raises(StoreError, match=r"newer than this escala knows.*upgrade escala"):
        await store.open()
    await store.close()


def test_a_data_dir_that_cannot_be_a_folder_stops_startup(tmp_path: Path) -> None:
    """Rather than serving a chat whose every message fails."""
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    argv = serve_argv(free_port(), taken)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert f"cannot create the history folder {taken}" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_history_file_that_is_not_sqlite_stops_startup(tmp_path: Path) -> None:
    (tmp_path / "chat.sqlite3").write_text("these are notes, not a database\n" * 200)
    argv = serve_argv(free_port(), tmp_path)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert f"cannot open SQLite history {tmp_path / 'chat.sqlite3'}" in out.stderr
    assert "Traceback" not in out.stderr


async def test_an_unreachable_database_names_host_not_password() -> None:
    store = PostgresStore(f"postgresql://ana:s3cret@127.0.0.1:{free_port()}/chat")
    with pytest.raises(StoreError, match=r"cannot reach PostgreSQL at 127\.0\.0\.1") as err:
        await store.open()
    assert "s3cret" not in str(err.value)


async def test_a_row_the_database_refuses_fails_alone(make_store: Callable[[], Store]) -> None:
    """Written in the same batch as good messages, an unstorable one (a lone surrogate
    that the chat's rules would have refused) raises for its caller only."""
    store: Store = make_store()
    await store.open()
    try:
        results = await asyncio.gather(
            store.add("lobby", "ana", "one"),
            store.add("lobby", "ana", "bad \ud800"),
            store.add("lobby", "ana", "two"),
            return_exceptions=True,
        )
        assert isinstance(results[1], Exception)
        assert [r["text"] for r in await store.recent("lobby", 10)] == ["one", "two"]
    finally:
        await store.close()


async def test_history_is_read_a_page_at_a_time(make_store: Callable[[], Store]) -> None:
    """A replay never reads the whole history: `since` and `recent` take a LIMIT, and
    `recent(before=)` pages back from an id (the `history` event's scrollback)."""
    store: Store = make_store()
    await store.open()
    try:
        ids = [(await store.add("lobby", "ana", f"m{n}"))[0]["id"] for n in range(10)]
        assert [r["id"] for r in await store.since("lobby", ids[2], 3)] == ids[3:6]
        assert [r["id"] for r in await store.recent("lobby", 3, before=ids[5])] == ids[2:5]
        assert [r["id"] for r in await store.recent("lobby", 3)] == ids[7:]
    finally:
        await store.close()


async def test_history_retention_prunes_by_age_and_by_count(
    make_store: Callable[[], Store],
) -> None:
    """History is not kept forever: too old, or beyond the newest N of its room, goes."""
    store: Store = make_store()
    await store.open()
    try:
        old, _ = await store.add("lobby", "ana", "old")
        await asyncio.sleep(0.2)  # a clear gap between "old" and the rest
        newer = [(await store.add("lobby", "ana", f"m{n}"))[0] for n in range(5)]
        await store.add("dev", "bo", "elsewhere")
        assert old["ts"] < newer[0]["ts"]
        age = time.time() - (old["ts"] + newer[0]["ts"]) / 2
        assert await store.prune(Retention(max_age_s=age)) == 1
        assert await store.prune(Retention(max_per_room=3)) == 2
        assert [r["text"] for r in await store.recent("lobby", 10)] == ["m2", "m3", "m4"]
        assert [r["text"] for r in await store.recent("dev", 10)] == ["elsewhere"]
    finally:
        await store.close()
