"""hub.locks and hub.cache on both backends (MongoDB, and a real Redis): only the owner renews or releases, a
lease whose holder never releases expires, a bounded wait gives up, two hub processes exclude each other, and
get-or-compute computes once for concurrent callers on two processes. The job runner takes its lease here."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.embedded import EmbeddedDatabase
from hub.locks import Lease, LockBusy
from hub.store import connect
from tests.support import SECRET, HubProcess, RunningHub, api, eventually, wait_for

PROBE = "tests.plugins.consult_allow,tests.plugins.found_probe"


@pytest.fixture(params=["mongo", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def one_hub(make_hub, backend: str, request: pytest.FixtureRequest) -> RunningHub:
    redis_url = request.getfixturevalue("redis_server").url if backend == "redis" else ""
    return await make_hub(redis_url=redis_url)


async def test_only_the_owner_renews_or_releases(one_hub: RunningHub) -> None:
    locks = one_hub.hub.locks
    lease = await locks.acquire("t:owner", ttl_secs=30)
    assert lease is not None
    forged = Lease(lease.name, "not-the-token", 30)
    assert await locks.release(forged) is False
    assert await locks.renew(forged) is False and forged.lost.is_set()
    assert await locks.acquire("t:owner", ttl_secs=30) is None  # still held by its owner
    assert await locks.renew(lease) is True
    assert await locks.release(lease) is True
    assert await locks.release(lease) is False  # released once
    assert await locks.acquire("t:owner", ttl_secs=30) is not None


async def test_a_lease_never_released_expires(one_hub: RunningHub) -> None:
    locks = one_hub.hub.locks
    crashed = await locks.acquire("t:crash", ttl_secs=0.3)  # its holder "dies": never renews nor releases
    assert crashed is not None
    taken = await locks.acquire("t:crash", ttl_secs=30, wait_secs=20)
    assert taken is not None and taken.token != crashed.token
    assert await locks.release(crashed) is False  # the dead owner can no longer release the new one
    assert await locks.acquire("t:crash", ttl_secs=30) is None


async def test_bounded_wait_gives_up_and_hold_releases(one_hub: RunningHub) -> None:
    locks = one_hub.hub.locks
    async with locks.hold("t:hold", ttl_secs=30) as lease:
        with pytest.raises(LockBusy):
            async with locks.hold("t:hold", ttl_secs=30, wait_secs=0.2):
                pass
        assert not lease.lost.is_set()
    async with locks.hold("t:hold", ttl_secs=30):  # released on leaving the block
        pass


async def test_cache_set_get_expire_and_compute(one_hub: RunningHub) -> None:
    cache = one_hub.hub.cache
    await cache.set("t:k", {"token": "令牌", "n": 1}, ttl_secs=30)
    assert await cache.get("t:k") == {"token": "令牌", "n": 1}
    await cache.set("t:short", "v", ttl_secs=0.2)
    assert await eventually(lambda: cache.get("t:short"), lambda v: v is None, timeout=10) is None
    calls = []

    async def compute() -> str:
        calls.append(1)
        await asyncio.sleep(0.1)
        return "computed"

    values = await asyncio.gather(*(cache.get_or_compute("t:c", 30, compute) for _ in range(10)))
    assert values == ["computed"] * 10 and len(calls) == 1
    await cache.delete("t:c")
    assert await cache.get("t:c") is None


async def test_jobs_take_their_lease_from_the_lock_service(make_hub, backend: str,
                                                         request: pytest.FixtureRequest) -> None:
    redis_url = request.getfixturevalue("redis_server").url if backend == "redis" else ""
    other = await make_hub(redis_url=redis_url)
    lease = await other.hub.locks.acquire("job:example_greeter.count", ttl_secs=60)  # as if another node ran it
    running = await make_hub(redis_url=redis_url, plugins={"signing": False, "example_greeter": True})
    stats = running.hub.db.example_greeter_stats
    refused = []  # the job's lease requests that found the lease taken, seen through the real lock service
    acquire = running.hub.locks.acquire

    async def seen_acquire(name: str, *args: Any, **kwargs: Any) -> Any:
        lease = await acquire(name, *args, **kwargs)
        if name == "job:example_greeter.count" and lease is None:
            refused.append(name)
        return lease

    running.hub.locks.acquire = seen_acquire  # type: ignore[method-assign]
    await wait_for(lambda: len(refused) >= 2, "the job (every 1 s) coming round twice")
    assert await stats.find_one({"_id": "greetings"}) is None
    assert await other.hub.locks.release(lease)
    assert await eventually(lambda: stats.find_one({"_id": "greetings"}), bool, timeout=20)


# -- two hub processes ---------------------------------------------------------------------------------------

@pytest.fixture
async def pair(mongo: EmbeddedDatabase, db_name: str, tmp_path: Path, backend: str,
               request: pytest.FixtureRequest) -> AsyncIterator[list[HubProcess]]:
    redis_url = request.getfixturevalue("redis_server").url if backend == "redis" else ""
    started = [start_probe_hub(mongo, db_name, tmp_path, f"node{i}", redis_url) for i in (1, 2)]
    yield started
    await asyncio.gather(*(asyncio.to_thread(p.stop) for p in started))


@asynccontextmanager
async def probe_db(process: HubProcess) -> AsyncIterator[Any]:
    """The database a hub process uses, through a client of the test's own."""
    client = connect(process.env["HUB_MONGO_URI"])
    try:
        yield client.get_database(process.env["HUB_MONGO_DB"])
    finally:
        await client.close()


def start_probe_hub(mongo: EmbeddedDatabase, db_name: str, tmp_path: Path, name: str, redis_url: str = "",
                    **env: str) -> HubProcess:
    return HubProcess({
        "HUB_MONGO_URI": mongo.uri, "HUB_MONGO_DB": db_name, "HUB_SECRET_KEY": SECRET, "HUB_REDIS_URL": redis_url,
        "HUB_NODE_ID": name, "HUB_PLUGINS": "signing=false", "HUB_PLUGIN_MODULES": PROBE,
        "HUB_STRICT_PLUGINS": "true", "HUB_LOG_LEVEL": "WARNING", **env}, tmp_path / f"{name}.log").start()


async def test_two_processes_exclude_each_other(pair: list[HubProcess]) -> None:
    calls = [api(pair[i % 2].url, "POST", "/api/found_probe/critical", body={}) for i in range(20)]
    assert all(status == 200 for status, _ in await asyncio.gather(*calls))
    async with probe_db(pair[0]) as db:
        counter = await db.found_probe_counter.find_one({"_id": "counter"})
        intervals = await db.found_probe_intervals.find().sort("start", 1).to_list()
    assert counter["value"] == 20  # no lost update: never two read-modify-writes at once
    assert {i["node"] for i in intervals} == {"node1", "node2"}
    for before, after in itertools.pairwise(intervals):
        assert before["end"] <= after["start"], (before, after)


async def test_get_or_compute_once_across_two_processes(pair: list[HubProcess]) -> None:
    calls = [api(pair[i % 2].url, "POST", "/api/found_probe/token", body={}) for i in range(12)]
    answers = await asyncio.gather(*calls)
    assert all(status == 200 for status, _ in answers)
    assert len({data["token"] for _, data in answers}) == 1
    assert {data["node"] for _, data in answers} == {"node1", "node2"}
    async with probe_db(pair[0]) as db:
        assert await db.found_probe_computations.count_documents({}) == 1
