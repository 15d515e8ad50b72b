"""How many sockets a user holds across every hub process, when several share one Redis.

Each authenticated socket holds a lease in Redis (a sorted set per user: member ``<node>:<session>``, score the
lease's end by the Redis clock), taken by one script that first drops the ended leases, so that two processes
counting at once cannot both take the last place. Each process renews the leases of its open sockets every
third of a lease and gives one back when its socket closes; the leases of a process that died end on their
own within ``LEASE_SECS``. Without Redis there is one process and its own registry is the count."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Protocol

import redis.asyncio as redis

log = logging.getLogger(__name__)

KEY_PREFIX = "hub:sockets:"
#: Long enough to outlive a renewal missed now and then, short enough that a crashed process's sockets are not
#: counted against their users for long.
LEASE_SECS = 60

# KEYS[1] the user's set; ARGV: member, limit, lease seconds. 1 when the lease is taken, 0 when the user is full.
CLAIM_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""
# KEYS: users' sets; ARGV[1] lease seconds, then one member per key. Renews only leases still held.
RENEW_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
  redis.call('EXPIRE', key, tonumber(ARGV[1]))
end
return #KEYS
"""
# KEYS: users' sets. One count per key of the leases not yet ended: whether each user has a socket anywhere.
PRESENT_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf')
end
return counts
"""
PRESENT_KEYS_PER_CALL = 500

#: This process's open sockets, as ``(user_id, session_id)`` pairs.
HeldSockets = Callable[[], Iterable[tuple[str, str]]]


class SocketLeases(Protocol):
    async def start(self, held: HeldSockets) -> None: ...
    async def claim(self, user_id: str, session_id: str) -> bool: ...
    async def present(self, user_ids: list[str]) -> set[str]: ...
    def release(self, user_id: str, session_id: str) -> None: ...
    async def close(self) -> None: ...


class LocalSocketLeases:
    """One process: the registry's own count is the whole count."""

    async def start(self, held: HeldSockets) -> None:
        return None

    async def claim(self, user_id: str, session_id: str) -> bool:
        return True

    async def present(self, user_ids: list[str]) -> set[str]:
        return set()  # nobody elsewhere: the registry of this process knows its own

    def release(self, user_id: str, session_id: str) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisSocketLeases:
    """Several processes: ``max_sockets`` per user across all of them, counted in the hub's Redis."""

    def __init__(self, client: redis.Redis, node_id: str, max_sockets: int, lease_secs: int = LEASE_SECS) -> None:
        self._redis = client
        self._node_id = node_id
        self._max_sockets = max_sockets
        self._lease_secs = lease_secs
        self._claim = client.register_script(CLAIM_SCRIPT)
        self._renew = client.register_script(RENEW_SCRIPT)
        self._present = client.register_script(PRESENT_SCRIPT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._renewer: asyncio.Task[None] | None = None
        self._held: HeldSockets = list
        self._closed = False

    def _member(self, session_id: str) -> str:
        return f"{self._node_id}:{session_id}"

    async def start(self, held: HeldSockets) -> None:
        """``held()`` gives the ``(user_id, session_id)`` of this process's open sockets, renewed periodically."""
        self._held = held
        self._renewer = asyncio.create_task(self._renew_forever(), name="socket-leases")

    async def claim(self, user_id: str, session_id: str) -> bool:
        try:
            return bool(await self._claim(keys=[KEY_PREFIX + user_id],
                                          args=[self._member(session_id), self._max_sockets, self._lease_secs]))
        except redis.RedisError:
            # Without Redis the process's own cap still holds; refusing everyone would be worse.
            log.warning("socket lease of %s not counted: Redis unavailable", user_id)
            return True

    async def present(self, user_ids: list[str]) -> set[str]:
        """The users holding a lease (a socket on some process). Without Redis nobody counts as present
        elsewhere: their notices then take the fallback chain, a message too many rather than one lost."""
        found: set[str] = set()
        try:
            for first in range(0, len(user_ids), PRESENT_KEYS_PER_CALL):
                chunk = user_ids[first:first + PRESENT_KEYS_PER_CALL]
                counts = await self._present(keys=[KEY_PREFIX + u for u in chunk], args=[])
                found.update(u for u, n in zip(chunk, counts, strict=True) if int(n) > 0)
        except redis.RedisError:
            log.warning("presence of %d user(s) not known: Redis unavailable; taking the fallback", len(user_ids))
        return found

    def release(self, user_id: str, session_id: str) -> None:
        if self._closed:  # given back with all the others on close
            return
        task = asyncio.get_running_loop().create_task(self._release(user_id, session_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, user_id: str, session_id: str) -> None:
        with contextlib.suppress(redis.RedisError):  # the lease then ends on its own
            await self._redis.zrem(KEY_PREFIX + user_id, self._member(session_id))

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._lease_secs / 3)
            pairs = list(self._held())
            try:
                if pairs:
                    await self._renew(keys=[KEY_PREFIX + u for u, _ in pairs],
                                      args=[self._lease_secs, *(self._member(s) for _, s in pairs)])
            except redis.RedisError:
                log.warning("socket leases not renewed: Redis unavailable")

    async def close(self) -> None:
        """Give back every lease of this process: its clients reconnect to another at once (1001), and their
        old leases must not count against them there until they end."""
        self._closed = True
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        pairs = list(self._held())
        if pairs:
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for user_id, session_id in pairs:
                        pipe.zrem(KEY_PREFIX + user_id, self._member(session_id))
                    await pipe.execute()
            except redis.RedisError:
                log.warning("%d socket leases not given back: Redis unavailable; they end within %d s",
                            len(pairs), self._lease_secs)


def make_socket_leases(client: redis.Redis | None, node_id: str, max_sockets: int) -> SocketLeases:
    return RedisSocketLeases(client, node_id, max_sockets) if client is not None else LocalSocketLeases()
