"""hub.locks' leases of many names at once (``acquire_many`` / ``release_many``), on both backends: the free
names are taken under one token without waiting, a held one is left to its owner, an expired one is taken over,
and releasing gives back only what the set still owns."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import RunningHub


@pytest.fixture(params=["mongo", "redis"])
async def one_hub(make_hub, request: pytest.FixtureRequest) -> RunningHub:
    redis_url = request.getfixturevalue("redis_server").url if request.param == "redis" else ""
    return await make_hub(redis_url=redis_url)


async def test_many_leases_are_taken_at_once_and_given_back(one_hub: RunningHub) -> None:
    locks = one_hub.hub.locks
    other = await locks.acquire("t:many:b", ttl_secs=30)
    dying = await locks.acquire("t:many:d", ttl_secs=30)
    assert other is not None and dying is not None
    assert await locks.renew(dying, ttl_secs=0.001)  # its holder stopped: its life runs out
    await asyncio.sleep(0.05)  # fifty times that life: expired by every clock
    leases = await locks.acquire_many(["t:many:c", "t:many:a", "t:many:b", "t:many:d", "t:many:a"], ttl_secs=30)
    assert leases.names == {"t:many:a", "t:many:c", "t:many:d"}  # b is held; d had expired
    assert await locks.acquire("t:many:a", ttl_secs=30) is None  # held by the set now
    assert await locks.release(dying) is False
    assert (await locks.acquire_many(["t:many:a", "t:many:c"], ttl_secs=30)).names == frozenset()
    await locks.release_many(leases)
    assert await locks.release(other) is True  # the other owner's lease was never the set's
    for name in ("t:many:a", "t:many:c", "t:many:d"):
        assert await locks.acquire(name, ttl_secs=30) is not None, name
    assert (await locks.acquire_many([], ttl_secs=30)).names == frozenset()
