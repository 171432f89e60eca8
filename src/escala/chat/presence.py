"""Who is logged in, per room: on this replica alone, or cluster-wide through Redis.

`numUsers` in the demo's `login`/`user joined`/`user left` and the `users` list must
count everyone in a room, whichever replica they are connected to. With `--redis`, each
replica writes what it holds into Redis and stamps itself alive in a sorted set, scored
with Redis's own clock (replicas' clocks may disagree). Readers count only replicas
stamped within the TTL: a replica that crashed (no chance to clean up) stops being
counted once its stamp is older than that, and a live one deletes what it left.

A login asks whether its name is taken and how many are in the room: each is read from
a key of its own (the name's holders; a count per replica), so a login costs the same in
a room of five as of five thousand; only the `users` list reads the whole room.
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
    async def claim(self, room: str, sid: str, username: str, owner: str) -> bool:
        """List `sid` in `room` as `username`, owned by `owner`, unless a connection of
        another owner goes by that name there: then False, and nothing changes. The check
        and the listing are one step, so two logins cannot both get one name."""
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

    async def claim(self, room: str, sid: str, username: str, owner: str) -> bool:
        if self.rooms.taken(room, username, owner):
            return False
        self.rooms.join(room, sid, username, owner)
        return True

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
# A replica silent for this many TTLs has its leftovers deleted by the live ones.
FORGET_AFTER_TTLS = 4

# Redis's clock, in milliseconds: every replica compares stamps on the same clock.
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "
# KEYS: replicas zset. ARGV: replica, forget-after ms -> replicas to forget.
_STAMP = _NOW + (
    "redis.call('ZADD', KEYS[1], now, ARGV[1]) "
    "return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ARGV[2])"
)
# KEYS: a hash. ARGV: field, step. A count that reaches zero goes, so only held names
# stay; a join and a leave end at the same count in either order.
_ADD = (
    "local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2]) "
    "if n == 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end return n"
)
# `live`: the replicas (KEYS[1], the replicas zset) stamped within ARGV[1] ms.
_LIVE = _NOW + (
    "local live = {} "
    "for _, r in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now - ARGV[1], '+inf')) do "
    "live[r] = true end "
)
# KEYS: replicas zset, a name's hash. ARGV: ttl ms, this replica's field for the owner,
# the owner -> 1 with the owner's count raised, or 0 (another live owner holds the name).
_CLAIM = _LIVE + (
    "local flat = redis.call('HGETALL', KEYS[2]) "
    "for i = 1, #flat, 2 do "
    "local at, who = string.match(flat[i], '^([^/]+)/(.*)$') "
    "if live[at] and who ~= ARGV[3] and tonumber(flat[i + 1]) > 0 then return 0 end end "
    "if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 0 then "
    "redis.call('HDEL', KEYS[2], ARGV[2]) end "
    "return 1"
)
# KEYS: replicas zset, a hash whose fields start with a replica id. ARGV: ttl ms ->
# [field, value, ...] of the hash's fields written by live replicas.
_LIVE_FIELDS = _LIVE + (
    "local out = {} local flat = redis.call('HGETALL', KEYS[2]) "
    "for i = 1, #flat, 2 do "
    "local r = string.match(flat[i], '^[^/]+') "
    "if live[r] then out[#out + 1] = flat[i] out[#out + 1] = flat[i + 1] end end "
    "return out"
)


class RedisPresence:
    """Cluster-wide presence. Per room: `room:<room>` (field `<replica>/<sid>`, for the
    `users` list), `count:<room>` (field `<replica>`: its connections there) and, per
    name, `name:<room>:<folded name>` (field `<replica>/<owner>`: how many of the owner's
    connections go by it). `replicas` scores each replica's last stamp; `keys:<replica>`
    lists the keys it wrote, so that what a crashed one left can be deleted."""

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
        self._stamp = self.redis.register_script(_STAMP)
        self._add = self.redis.register_script(_ADD)
        self._claim = self.redis.register_script(_CLAIM)
        self._live_fields = self.redis.register_script(_LIVE_FIELDS)
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def _ttl_ms(self) -> int:
        return int(self.ttl * 1000)

    def _replicas_key(self) -> str:
        return f"{PREFIX}:replicas"

    def _keys_key(self, replica: str) -> str:
        return f"{PREFIX}:keys:{replica}"

    def _room_key(self, room: str) -> str:
        return f"{PREFIX}:room:{room}"

    def _count_key(self, room: str) -> str:
        return f"{PREFIX}:count:{room}"

    def _name_key(self, room: str, username: str) -> str:
        # the room's length keeps ("a:b", "c") and ("a", "b:c") apart
        return f"{PREFIX}:name:{len(room)}:{room}:{rules.folded(username)}"

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
        forget_ms = self._ttl_ms * FORGET_AFTER_TTLS
        gone = await self._stamp(keys=[self._replicas_key()], args=[self.replica, forget_ms])
        for replica in gone:
            await self._forget(replica)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            with contextlib.suppress(RedisError, OSError):
                await self._beat()

    async def _forget(self, replica: str) -> None:
        """Delete what `replica` wrote (its fields in each key it listed), then the replica:
        a replica closing, or what a crashed one left, found by any live one (twice is
        harmless)."""
        for key in await self.redis.smembers(self._keys_key(replica)):
            fields = [f async for f, _ in self.redis.hscan_iter(key, match=f"{replica}/*")]
            if key.startswith(f"{PREFIX}:count:"):
                fields.append(replica)
            if fields:
                await self.redis.hdel(key, *fields)
        await self.redis.delete(self._keys_key(replica))
        await self.redis.zrem(self._replicas_key(), replica)

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        with contextlib.suppress(RedisError, OSError):
            await self._forget(self.replica)
        await self.redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def claim(self, room: str, sid: str, username: str, owner: str) -> bool:
        """Across replicas: the name is checked and held in one script on Redis, so two
        replicas asked for one free name at the same instant grant it once."""
        if self.mine.entry(room, sid) is not None:
            await self.leave(room, sid)  # logging in again under another name
        name_key = self._name_key(room, username)
        held = f"{self.replica}/{owner}"
        if not await self._claim(
            keys=[self._replicas_key(), name_key], args=[self._ttl_ms, held, owner]
        ):
            return False
        self.mine.join(room, sid, username, owner)
        room_key, count_key = self._room_key(room), self._count_key(room)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(self._keys_key(self.replica), room_key, count_key, name_key)
            pipe.hset(room_key, f"{self.replica}/{sid}", f"{username}{OWNER_MARK}{owner}")
            await self._add(keys=[count_key], args=[self.replica, 1], client=pipe)
            await pipe.execute()
        return True

    async def leave(self, room: str, sid: str) -> None:
        entry = self.mine.entry(room, sid)
        if entry is None:
            return
        username, owner = entry
        self.mine.leave(room, sid)
        name_key = self._name_key(room, username)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hdel(self._room_key(room), f"{self.replica}/{sid}")
            await self._add(keys=[self._count_key(room)], args=[self.replica, -1], client=pipe)
            await self._add(keys=[name_key], args=[f"{self.replica}/{owner}", -1], client=pipe)
            if not self.mine.owners(room, username):
                pipe.srem(self._keys_key(self.replica), name_key)
            await pipe.execute()

    async def users(self, room: str) -> list[str]:
        entries = await self._live(self._room_key(room))
        return sorted(value.partition(OWNER_MARK)[0] for value in entries.values())

    async def count(self, room: str) -> int:
        counts = await self._live(self._count_key(room))
        return sum(max(int(n), 0) for n in counts.values())

    async def _live(self, key: str) -> dict[str, str]:
        """The fields of `key` written by replicas stamped within the TTL."""
        flat = await self._live_fields(keys=[self._replicas_key(), key], args=[self._ttl_ms])
        return dict(zip(flat[::2], flat[1::2], strict=True))
