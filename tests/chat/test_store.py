"""The SQLite history store: order, per-room history, exactly-once on client offsets."""

from pathlib import Path

from escala.chat.store import SQLiteStore


async def test_history_and_exactly_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "h.sqlite3")
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
        assert [r["id"] for r in await store.since("lobby", first["id"])] == [second["id"]]
        assert await store.ping()
    finally:
        await store.close()
    reopened = SQLiteStore(tmp_path / "h.sqlite3")
    await reopened.open()
    try:
        assert len(await reopened.recent("lobby", 10)) == 2
    finally:
        await reopened.close()
