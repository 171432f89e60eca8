"""Who is logged in, per room: on this replica alone, or cluster-wide through Redis.

`numUsers` in the demo's `login`/`user joined`/`user left` and the `users` list must
count everyone in a room, whichever replica they are connected to. With `--redis`,
each replica writes its members into one Redis hash per room, fields prefixed with the
replica's id, and keeps a heartbeat key with a short TTL alive. Readers count only the
fields of replicas whose heartbeat is alive, and delete the others: a replica that
crashed (no chance to clean up) stops being counted once its heartbeat expires.
"""

import asyncio
import contextlib
import uuid
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from escala.chat import rules
from escala.chat.store import StoreError


class Presence(Protocol):
    async def start(self) -> None:
        """Begin announcing this replica (Redis: heartbeat)."""
        ...

    async def close(self) -> None:
        """Withdraw this replica's members and stop announcing it."""
        ...

    async def ping(self) -> bool: ...
    async def join(self, room: str, sid: str, username: str, owner: str | None = None) -> None:
        """List `sid` in `room` as `username`, owned by `owner` (default: `sid` alone)."""
        ...

    async def taken(self, room: str, username: str, owner: str) -> bool:
        """Does a connection of another owner go by `username` in `room`?"""
        ...

    async def leave(self, room: str, sid: str) -> None: ...
    async def count(self, room: str) -> int: ...
    async def users(self, room: str) -> list[str]:
        """Usernames in the room, sorted; one entry per connection."""
        ...


class LocalPresence:
    """One replica: presence is `rules.Presence`, in memory."""

    def __init__(self) -> None:
        self.rooms = rules.Presence()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def join(self, room: str, sid: str, username: str, owner: str | None = None) -> None:
        self.rooms.join(room, sid, username, owner)

    async def taken(self, room: str, username: str, owner: str) -> bool:
        return self.rooms.taken(room, username, owner)

    async def leave(self, room: str, sid: str) -> None:
        self.rooms.leave(room, sid)

    async def count(self, room: str) -> int:
        return self.rooms.count(room)

    async def users(self, room: str) -> list[str]:
        return self.rooms.users(room)


PREFIX = "escala:chat"
# Between a room hash value's username and its owner: nicknames never hold a NUL.
OWNER_MARK = "\x00"
POOL_SIZE = 32  # Redis connections per replica for presence
POOL_WAIT_S = 10.0  # how long a presence call waits for one of them


class RedisPresence:
    """Cluster-wide presence: room hashes `{PREFIX}:room:<room>`, field `<replica>/<sid>`."""

    def __init__(self, url: str, ttl: float = 15.0) -> None:
        # A blocking pool: a burst of logins and leaves (hundreds of clients at once)
        # waits for a free connection instead of failing with "Too many connections",
        # which left a user listed after it had gone.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=POOL_WAIT_S, decode_responses=True
        )
        self.redis = aioredis.Redis.from_pool(pool)
        self.ttl = ttl
        self.replica = uuid.uuid4().hex
        self.mine = rules.Presence()
        self._heartbeat: asyncio.Task[None] | None = None

    def _alive_key(self, replica: str) -> str:
        return f"{PREFIX}:replica:{replica}"

    def _room_key(self, room: str) -> str:
        return f"{PREFIX}:room:{room}"

    async def start(self) -> None:
        try:
            await self._beat()
        except (RedisError, OSError) as e:
            where = self.redis.connection_pool.connection_kwargs
            raise StoreError(
                f"cannot reach Redis at {where.get('host')}:{where.get('port')}: {e}"
            ) from e
        self._heartbeat = asyncio.create_task(self._beat_forever())

    async def _beat(self) -> None:
        await self.redis.set(self._alive_key(self.replica), "1", px=int(self.ttl * 1000))

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            with contextlib.suppress(RedisError, OSError):
                await self._beat()

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        with contextlib.suppress(RedisError, OSError):
            async with self.redis.pipeline(transaction=False) as pipe:
                for room, sids in self.mine.members().items():
                    pipe.hdel(self._room_key(room), *(f"{self.replica}/{sid}" for sid in sids))
                pipe.delete(self._alive_key(self.replica))
                await pipe.execute()
        await self.redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def join(self, room: str, sid: str, username: str, owner: str | None = None) -> None:
        self.mine.join(room, sid, username, owner)
        value = f"{username}{OWNER_MARK}{owner or f'sid:{sid}'}"
        await self.redis.hset(self._room_key(room), f"{self.replica}/{sid}", value)

    async def taken(self, room: str, username: str, owner: str) -> bool:
        """Across replicas. Two replicas asked for one new name at the same instant can
        both find it free (check, then join: no lock across them)."""
        return any(
            rules.same_name(name, username) and who != owner
            for name, who in await self._entries(room)
        )

    async def leave(self, room: str, sid: str) -> None:
        self.mine.leave(room, sid)
        await self.redis.hdel(self._room_key(room), f"{self.replica}/{sid}")

    async def users(self, room: str) -> list[str]:
        return sorted(name for name, _ in await self._entries(room))

    async def _entries(self, room: str) -> list[tuple[str, str]]:
        """(username, owner) of every live connection in the room; a dead replica's
        fields are deleted on the way."""
        key = self._room_key(room)
        fields = await self.redis.hgetall(key)
        replicas = sorted({field.split("/", 1)[0] for field in fields})
        async with self.redis.pipeline(transaction=False) as pipe:
            for replica in replicas:
                pipe.exists(self._alive_key(replica))
            flags = await pipe.execute()
        dead = {r for r, alive in zip(replicas, flags, strict=True) if not alive}
        stale = [f for f in fields if f.split("/", 1)[0] in dead]
        if stale:
            await self.redis.hdel(key, *stale)
        entries = []
        for f, value in fields.items():
            if f not in stale:
                name, _, owner = value.partition(OWNER_MARK)
                entries.append((name, owner or f))  # no owner: written by an older replica
        return entries

    async def count(self, room: str) -> int:
        return len(await self.users(room))
