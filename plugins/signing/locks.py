"""Per-resident leases: every transition of a resident's state (sign in any mode, approve, reject, cancel, renew,
terminate, expire, refuse, unable-to-sign request / decision / lift, the renewal job, the import) runs its check
and its writes while holding the resident's lease, so two transitions of one resident never interleave.

A lease is one of the core's cluster-wide leases (``hub.locks``: Redis when ``redis_url`` is set, the
``hub_locks`` collection otherwise), named ``signing:resident:<resident id>``, with a life of
``signing.resident_lock_ttl_secs`` after which another holder may take it over (a hub killed while holding one
blocks that resident for at most that long). A holder that cannot have the lease within
``signing.resident_lock_wait_secs`` gets 409 ``busy``.

Why a lease and not a compare-and-set on a version of the resident: the invariants span two collections (the
resident's ``unable`` flag and the signing that holds its ``active_key``), and the embedded server has no
multi-document transactions, so a version checked on one document cannot guard a write to the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub import Conflict, Hub, LeaseSet

LOCK_PREFIX = "signing:resident:"


class Busy(Conflict):
    code, message = "busy", "该居民正在办理其他业务，请稍后重试"


def lock_name(resident_id: str) -> str:
    """The name of a resident's lease in ``hub.locks``."""
    return LOCK_PREFIX + resident_id


@asynccontextmanager
async def resident_lock(hub: Hub, resident_id: str) -> AsyncIterator[None]:
    """Hold the resident's lease for the block; ``Busy`` when it cannot be had in the bounded wait. Not renewed:
    a transition takes milliseconds, its lease lives ``signing.resident_lock_ttl_secs``."""
    lease = await hub.locks.acquire(lock_name(resident_id), hub.config["signing.resident_lock_ttl_secs"],
                                    wait_secs=hub.config["signing.resident_lock_wait_secs"])
    if lease is None:
        raise Busy(resident_id=resident_id)
    try:
        yield
    finally:
        await hub.locks.release(lease)


async def acquire_many(hub: Hub, resident_ids: list[str]) -> tuple[LeaseSet, set[str]]:
    """Take the leases of many residents at once without waiting (the import's batches), in the ids' sorted
    order; returns the leases (for ``release_many``) and the ids taken. The others are busy: their rows are
    reported, not waited for."""
    leases = await hub.locks.acquire_many(map(lock_name, resident_ids), hub.config["signing.resident_lock_ttl_secs"])
    return leases, {name.removeprefix(LOCK_PREFIX) for name in leases.names}


async def release_many(hub: Hub, leases: LeaseSet, resident_ids: set[str]) -> None:
    """Let go of what ``acquire_many`` took."""
    if resident_ids:
        await hub.locks.release_many(leases)
