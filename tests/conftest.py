"""Fixtures: one real SecantusDB server for the session (a fresh database per test), a real Redis server when
a test needs several hubs, and hubs served on free ports."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.embedded import EmbeddedDatabase
from hub.store import connect
from hub.testing import scratch_database
from tests.support import (
    PASSWORD,
    SHARED_DATA,
    Client,
    RedisServer,
    RunningHub,
    hub_overrides,
    redis_binary,
    require_or_skip,
    start_hub,
    start_redis,
    token_for,
)

COUNTY = "330522000000"
OTHER_COUNTY = "330523000000"
# username → (role, region, extra fields)
TEST_USERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "sysadmin": ("sysadmin", "", {}),
    "supervisor": ("supervisor", COUNTY, {}),
    "supervisor_other": ("supervisor", OTHER_COUNTY, {}),
    "doctor": ("doctor", "330522100000", {}),
    "doctor2": ("doctor", "330522101000", {}),
    "resident": ("resident", "330522100201", {"phone": "13900000001"}),
    "resident2": ("resident", "330522101202", {"phone": "13900000002"}),
    "stranger": ("resident", "330523100201", {"phone": "13900000003"}),
}


@pytest.fixture(scope="session")
def mongo() -> Iterator[EmbeddedDatabase]:
    """The suite's SecantusDB, its files in memory (tmpfs) where the machine has one, so that no test waits on the
    disk (this machine's kernel evicts idle file pages early). Durability across a crash of the *hub* is what the
    suite tests. (The whole-lexicon import still takes 12 s in most full runs and up to ~2 min in some, inside the
    server's inserts; the cause is not known: see the README's notes.)"""
    with scratch_database() as db:
        yield db


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    require_or_skip("Redis", redis_binary() is not None, "redis-server on PATH: apt-get install redis-server")
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
async def close_clients() -> AsyncIterator[None]:
    """Close every WebSocket client a test opened, so no socket is left for the garbage collector."""
    yield
    while Client.opened:
        await Client.opened.pop().close()


@pytest.fixture
async def db_name(mongo: EmbeddedDatabase) -> AsyncIterator[str]:
    """A database of the test's own, dropped afterwards so that the suite's server stays small."""
    name = "t_" + uuid.uuid4().hex[:12]
    yield name
    client = connect(mongo.uri)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.fixture
async def make_hub(mongo: EmbeddedDatabase, db_name: str) -> AsyncIterator[Callable[..., Awaitable[RunningHub]]]:
    """Start hubs on the test's database; each call may override settings. All are stopped afterwards."""
    started: list[RunningHub] = []

    async def factory(**extra: Any) -> RunningHub:
        running = await start_hub(hub_overrides(mongo.uri, db_name, **extra))
        started.append(running)
        return running

    yield factory
    for running in reversed(started):
        if not running.hub.shutting_down:
            await running.stop()


async def add_users(running: RunningHub) -> dict[str, dict[str, Any]]:
    """The standard cast, each with a token; ``resident`` may consult ``doctor``, ``resident2`` ``doctor2``."""
    users: dict[str, dict[str, Any]] = {}
    for username, (role, region, extra) in TEST_USERS.items():
        existing = await running.hub.db.users.find_one({"username": username})
        users[username] = existing or await running.hub.accounts.create_user(
            username=username, password=PASSWORD, role=role, name=f"测试{username}", region=region, **extra)
    await running.hub.db.users.update_one({"_id": users["resident"]["_id"]},
                                          {"$set": {"test_doctors": [users["doctor"]["_id"]]}})
    await running.hub.db.users.update_one({"_id": users["resident2"]["_id"]},
                                          {"$set": {"test_doctors": [users["doctor2"]["_id"]]}})
    for user in users.values():
        user["token"] = token_for(running, user)  # minted: tests about logging in log in themselves
    running.users = users
    return users


@pytest.fixture
async def hub(make_hub: Callable[..., Awaitable[RunningHub]]) -> RunningHub:
    """One hub with the standard cast of users."""
    running = await make_hub()
    await add_users(running)
    return running


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder (``$HUB_SHARED_DATA``, else ``../shared/data``); a test checks for what it reads
    there with ``require_or_skip``."""
    return SHARED_DATA
