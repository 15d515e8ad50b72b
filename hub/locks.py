"""Cluster-wide locks (leases) and a small shared cache: Redis when ``redis_url`` is configured, MongoDB otherwise.

A lease has a name, an owner token (random per acquisition) and a time to live: it is held until its owner
releases it or it expires, so a process that dies holding one blocks the others for at most its TTL. Only the
owner renews or releases it. ``Locks.hold`` is the usual way in::

    async with hub.locks.hold("wechat:token", ttl_secs=30, wait_secs=10) as lease:
        ...  # renewed in the background while held; ``lease.lost`` says the lease expired under us

The cache holds JSON values with a TTL; ``SharedCache.get_or_compute`` runs the computation once at a time
across the cluster (the other callers wait for its value), which is what a shared access token needs.

Expiry in MongoDB is judged by the clock of the process that writes it (keep node clocks in sync, NTP); the TTL
index only removes old documents, every read checks ``expires_at`` itself. In Redis the server's clock rules.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import redis.asyncio as redis
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.errors import Unavailable
from hub.ids import now
from hub.store import Index
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

INDEXES = [
    Index("hub_locks", [("expires_at", 1)], "expires_ttl", options={"expireAfterSeconds": 0}),
    Index("hub_cache", [("expires_at", 1)], "expires_ttl", options={"expireAfterSeconds": 0}),
]
REDIS_PREFIX = "hub:lock:"
REDIS_CACHE_PREFIX = "hub:cache:"
WAIT_FIRST_SECS = 0.02  # first pause of a bounded wait; it doubles up to WAIT_MAX_SECS
WAIT_MAX_SECS = 0.25
RENEW_FRACTION = 3  # a held lease is renewed every ttl / RENEW_FRACTION

# Compare-and-delete / compare-and-extend: only the owner's token may release or renew a Redis lease.
RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
RENEW_SCRIPT = ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) "
                "else return 0 end")


class LockBusy(Unavailable):
    """A lock (or a cached value being computed elsewhere) was not had within the bounded wait (503: retry)."""

    message = "操作繁忙，请稍后重试"


@dataclass
class Lease:
    """A lease held by this process: ``token`` proves ownership; ``lost`` is set when a renewal failed."""

    name: str
    token: str
    ttl_secs: float
    lost: asyncio.Event = field(default_factory=asyncio.Event)


class LockBackend(Protocol):
    async def try_acquire(self, name: str, token: str, ttl_secs: float) -> bool: ...
    async def renew(self, name: str, token: str, ttl_secs: float) -> bool: ...
    async def release(self, name: str, token: str) -> bool: ...
    async def get(self, key: str) -> Any | None: ...
    async def set(self, key: str, value: Any, ttl_secs: float) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def close(self) -> None: ...


class MongoBackend:
    """Leases as documents ``{_id: name, owner, expires_at}``; cache entries ``{_id: key, value, expires_at}``."""

    def __init__(self, db: AsyncDatabase, node_id: str) -> None:
        self._locks = db.hub_locks
        self._cache = db.hub_cache
        self._node = node_id

    async def try_acquire(self, name: str, token: str, ttl_secs: float) -> bool:
        moment = now()
        try:
            doc = await self._locks.find_one_and_update(
                {"_id": name, "expires_at": {"$lte": moment}},
                {"$set": {"owner": token, "node": self._node, "expires_at": moment + timedelta(seconds=ttl_secs)}},
                upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # the lease exists and has not expired
            return False
        if doc is None:  # SecantusDB: a concurrent upsert may answer None; the stored owner tells who won
            doc = await self._locks.find_one({"_id": name})
        return doc is not None and doc.get("owner") == token

    async def renew(self, name: str, token: str, ttl_secs: float) -> bool:
        result = await self._locks.update_one(
            {"_id": name, "owner": token}, {"$set": {"expires_at": now() + timedelta(seconds=ttl_secs)}})
        return result.matched_count == 1

    async def release(self, name: str, token: str) -> bool:
        return (await self._locks.delete_one({"_id": name, "owner": token})).deleted_count == 1

    async def get(self, key: str) -> Any | None:
        doc = await self._cache.find_one({"_id": key, "expires_at": {"$gt": now()}})
        return None if doc is None else doc["value"]

    async def set(self, key: str, value: Any, ttl_secs: float) -> None:
        doc = {"value": value, "expires_at": now() + timedelta(seconds=ttl_secs)}
        try:
            await self._cache.replace_one({"_id": key}, doc, upsert=True)
        except DuplicateKeyError:  # two first writers at once: the document exists now, so replace it
            await self._cache.replace_one({"_id": key}, doc, upsert=True)

    async def delete(self, key: str) -> None:
        await self._cache.delete_one({"_id": key})

    async def close(self) -> None:
        """The database client belongs to the hub."""


class RedisBackend:
    """Leases as ``SET key token NX PX ttl`` with compare-and-delete release; cache entries as JSON strings."""

    def __init__(self, url: str) -> None:
        self._redis = redis.from_url(url, decode_responses=True)
        self._release = self._redis.register_script(RELEASE_SCRIPT)
        self._renew = self._redis.register_script(RENEW_SCRIPT)

    async def try_acquire(self, name: str, token: str, ttl_secs: float) -> bool:
        return bool(await self._redis.set(REDIS_PREFIX + name, token, nx=True, px=_millis(ttl_secs)))

    async def renew(self, name: str, token: str, ttl_secs: float) -> bool:
        return bool(await self._renew(keys=[REDIS_PREFIX + name], args=[token, _millis(ttl_secs)]))

    async def release(self, name: str, token: str) -> bool:
        return bool(await self._release(keys=[REDIS_PREFIX + name], args=[token]))

    async def get(self, key: str) -> Any | None:
        text = await self._redis.get(REDIS_CACHE_PREFIX + key)
        return None if text is None else json.loads(text)

    async def set(self, key: str, value: Any, ttl_secs: float) -> None:
        await self._redis.set(REDIS_CACHE_PREFIX + key, json.dumps(value, ensure_ascii=False), px=_millis(ttl_secs))

    async def delete(self, key: str) -> None:
        await self._redis.delete(REDIS_CACHE_PREFIX + key)

    async def close(self) -> None:
        await self._redis.aclose()


def _millis(secs: float) -> int:
    return max(1, int(secs * 1000))


def make_backend(db: AsyncDatabase, node_id: str, redis_url: str) -> LockBackend:
    return RedisBackend(redis_url) if redis_url else MongoBackend(db, node_id)


async def _pause(attempt: int, deadline: float) -> bool:
    """Sleep before the next try of a bounded wait; False when the deadline has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        return False
    await asyncio.sleep(min(left, WAIT_MAX_SECS, WAIT_FIRST_SECS * 2 ** attempt))
    return True


class Locks:
    """Cluster-wide leases. Names are free text; prefix them with your plugin's name (``wechat:token``)."""

    def __init__(self, backend: LockBackend) -> None:
        self._backend = backend

    async def acquire(self, name: str, ttl_secs: float, *, wait_secs: float = 0.0) -> Lease | None:
        """Take the lease, trying for up to ``wait_secs``; None when another owner held it all that time."""
        token = secrets.token_hex(16)
        deadline = time.monotonic() + wait_secs
        attempt = 0
        while not await self._backend.try_acquire(name, token, ttl_secs):
            if not await _pause(attempt, deadline):
                return None
            attempt += 1
        return Lease(name, token, ttl_secs)

    async def renew(self, lease: Lease, ttl_secs: float | None = None) -> bool:
        """Extend a lease this process holds; False (and ``lease.lost`` set) when it is no longer ours."""
        if ttl_secs is not None:
            lease.ttl_secs = ttl_secs
        if await self._backend.renew(lease.name, lease.token, lease.ttl_secs):
            return True
        lease.lost.set()
        return False

    async def release(self, lease: Lease) -> bool:
        """Give the lease back; False when it had expired (and maybe been taken by another owner)."""
        return await self._backend.release(lease.name, lease.token)

    @asynccontextmanager
    async def hold(self, name: str, ttl_secs: float, *, wait_secs: float = 0.0) -> AsyncIterator[Lease]:
        """Hold the lease for the block, renewing it in the background; raises LockBusy after ``wait_secs``."""
        lease = await self.acquire(name, ttl_secs, wait_secs=wait_secs)
        if lease is None:
            raise LockBusy(lock=name)
        keeper = asyncio.create_task(self._keep(lease), name=f"lease-{name}")
        try:
            yield lease
        finally:
            await cancel_and_wait([keeper])
            try:
                await self.release(lease)
            except Exception:  # the lease expires by itself; the block's own outcome matters more
                log.exception("releasing lease %s failed", name)

    async def _keep(self, lease: Lease) -> None:
        while not lease.lost.is_set():
            await asyncio.sleep(lease.ttl_secs / RENEW_FRACTION)
            try:
                if not await self.renew(lease):
                    log.warning("lease %s was lost (expired and taken, or released elsewhere)", lease.name)
            except Exception:  # a blip of the store: try again at the next interval, before the TTL runs out
                log.exception("renewing lease %s failed", lease.name)

    async def close(self) -> None:
        await self._backend.close()


Compute = Callable[[], Awaitable[Any]]


class SharedCache:
    """Small JSON values shared by every hub process, each with a TTL. ``None`` is not a value (it means absent)."""

    def __init__(self, backend: LockBackend, locks: Locks) -> None:
        self._backend = backend
        self._locks = locks

    async def get(self, key: str) -> Any | None:
        return await self._backend.get(key)

    async def set(self, key: str, value: Any, ttl_secs: float) -> None:
        await self._backend.set(key, value, ttl_secs)

    async def delete(self, key: str) -> None:
        await self._backend.delete(key)

    async def get_or_compute(self, key: str, ttl_secs: float, compute: Compute, *, wait_secs: float = 10.0,
                             compute_secs: float = 30.0) -> Any:
        """The cached value, or ``compute()``'s, stored for ``ttl_secs``. One caller in the cluster computes at a
        time (under the lease ``cache:<key>``, held up to ``compute_secs``); the others wait up to ``wait_secs``
        for its value, and take over if it dies. Raises LockBusy when no value came in time."""
        deadline = time.monotonic() + wait_secs
        attempt = 0
        while True:
            value = await self._backend.get(key)
            if value is not None:
                return value
            lease = await self._locks.acquire("cache:" + key, compute_secs)
            if lease is not None:
                try:
                    return await self._compute_once(key, ttl_secs, compute)
                finally:
                    await self._locks.release(lease)
            if not await _pause(attempt, deadline):
                raise LockBusy(cache=key)
            attempt += 1

    async def _compute_once(self, key: str, ttl_secs: float, compute: Compute) -> Any:
        value = await self._backend.get(key)  # computed by the previous holder while we asked for the lease
        if value is None:
            value = await compute()
            if value is None:
                raise ValueError(f"cache computation for {key!r} returned None")
            await self._backend.set(key, value, ttl_secs)
        return value
