"""The residents' leases are hub.locks leases: the race tests of ``test_rules_races`` (unchanged) hold with Redis
configured as well as on MongoDB alone, and a lease taken by a transition is a key in that Redis."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as redis

from hub.locks import REDIS_PREFIX
from plugins.signing import locks
from tests.signing import test_rules_races as races
from tests.signing.world import World, build_world

RACES = [races.test_unable_approval_racing_a_signing, races.test_unable_approval_racing_an_application_approval,
         races.test_refusal_racing_a_signing, races.test_signing_racing_signing_across_modes,
         races.test_two_refusals_at_once_count_once]


@pytest.fixture
async def redis_world(make_hub: Any, redis_server: Any) -> World:
    return await build_world(make_hub, redis_url=redis_server.url)


@pytest.mark.parametrize("race", RACES, ids=lambda race: race.__name__.removeprefix("test_"))
async def test_the_races_hold_with_redis_leases(redis_world: World, race: Any) -> None:
    await race(redis_world)


async def test_a_lease_is_bounded_and_a_dead_holder_expires_with_redis(make_hub: Any, redis_server: Any) -> None:
    await races.test_a_lease_is_bounded_and_a_dead_holder_expires(
        lambda **settings: make_hub(redis_url=redis_server.url, **settings))


async def test_a_residents_lease_is_kept_in_redis(redis_world: World, redis_server: Any) -> None:
    resident = await redis_world.resident(name="租约在Redis")
    client = redis.from_url(redis_server.url, decode_responses=True)
    try:
        async with locks.resident_lock(redis_world.hub, resident["id"]):
            assert await client.exists(REDIS_PREFIX + locks.lock_name(resident["id"])) == 1
            assert await redis_world.hub.db.hub_locks.find_one({"_id": locks.lock_name(resident["id"])}) is None
        assert await client.exists(REDIS_PREFIX + locks.lock_name(resident["id"])) == 0
    finally:
        await client.aclose()
