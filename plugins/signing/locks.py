"""Per-resident leases: every transition of a resident's state (sign in any mode, approve, reject, cancel, renew,
terminate, expire, refuse, unable-to-sign request / decision / lift, the renewal job, the import) runs its check
and its writes while holding the resident's lease, so two transitions of one resident never interleave.

A lease is a document of the plugin's ``signing_leases`` collection: ``_id`` = the resident id (the primary key
makes taking it atomic on every hub process), an ``owner`` token and an ``expires`` time, after which another
holder may take it over (a hub killed while holding one blocks that resident for at most the lease's life). A
holder that cannot have the lease within ``signing.resident_lock_wait_secs`` gets 409 ``busy``.

Why a lease and not a compare-and-set on a version of the resident: the invariants span two collections (the
resident's ``unable`` flag and the signing that holds its ``active_key``), and the embedded server has no
multi-document transactions, so a version checked on one document cannot guard a write to the other.

This module is the only place that knows how the lease is kept: a cluster lock service can replace it behind
``resident_lock`` / ``acquire_many`` / ``release_many``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from hub import Conflict
from hub.ids import new_id, now

log = logging.getLogger(__name__)

FIRST_RETRY_SECS = 0.005
LONGEST_RETRY_SECS = 0.1


class Busy(Conflict):
    code, message = "busy", "该居民正在办理其他业务，请稍后重试"


def _limits(hub: Any) -> tuple[timedelta, float]:
    return (timedelta(seconds=hub.config["signing.resident_lock_ttl_secs"]),
            hub.config["signing.resident_lock_wait_secs"])


async def _try_take(leases: Any, resident_id: str, owner: str, ttl: timedelta) -> bool:
    moment = now()
    try:
        await leases.insert_one({"_id": resident_id, "owner": owner, "expires": moment + ttl})
        return True
    except DuplicateKeyError:
        pass
    taken = await leases.find_one_and_update({"_id": resident_id, "expires": {"$lte": moment}},
                                             {"$set": {"owner": owner, "expires": moment + ttl}})
    if taken is not None:
        log.warning("resident %s: took over a lease that expired (its holder %s stopped?)", resident_id,
                    taken.get("owner"))
    return taken is not None


@asynccontextmanager
async def resident_lock(hub: Any, resident_id: str) -> AsyncIterator[None]:
    """Hold the resident's lease for the block; ``Busy`` when it cannot be had in the bounded wait."""
    leases = hub.db.signing_leases
    ttl, wait = _limits(hub)
    owner = new_id()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    delay = FIRST_RETRY_SECS
    while not await _try_take(leases, resident_id, owner, ttl):
        left = deadline - loop.time()
        if left <= 0:
            raise Busy(resident_id=resident_id)
        await asyncio.sleep(min(left, random.uniform(delay / 2, delay)))  # jittered: waiters do not march in step
        delay = min(delay * 2, LONGEST_RETRY_SECS)
    try:
        yield
    finally:
        await leases.delete_one({"_id": resident_id, "owner": owner})


async def acquire_many(hub: Any, resident_ids: list[str]) -> tuple[str, set[str]]:
    """Take the leases of many residents at once without waiting (the import's batches); returns the owner token
    and the ids taken. The others are busy: their rows are reported, not waited for."""
    leases = hub.db.signing_leases
    ttl, _ = _limits(hub)
    owner = new_id()
    if not resident_ids:
        return owner, set()
    moment = now()
    docs = [{"_id": rid, "owner": owner, "expires": moment + ttl} for rid in resident_ids]
    failed: set[str] = set()
    try:
        await leases.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        failed = {docs[e["index"]]["_id"] for e in exc.details.get("writeErrors", []) if e.get("code") == 11000}
        if len(failed) < len(exc.details.get("writeErrors", [])):
            raise
    taken = set(resident_ids) - failed
    for rid in sorted(failed):
        if await _try_take(leases, rid, owner, ttl):
            taken.add(rid)
    return owner, taken


async def release_many(hub: Any, owner: str, resident_ids: set[str]) -> None:
    """Let go of what ``acquire_many`` took. By owner alone: the token is this batch's, and an ``$in`` of a
    thousand ids costs this server about a second (README, Notes), while the leases held at once are few."""
    if resident_ids:
        await hub.db.signing_leases.delete_many({"owner": owner})
