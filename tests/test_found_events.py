"""Durable domain events: declared (an undeclared subscription fails start-up, an undeclared emit raises),
stored before the request returns, delivered after a kill -9 and restart, retried when the subscriber fails,
in order, and handled by one of two hub processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub.embedded import EmbeddedDatabase
from hub.errors import ConfigError
from hub.events import STREAM, EventError
from hub.sequencing import seq_id
from tests.support import RunningHub, api, eventually
from tests.test_found_locks import backend, pair, probe_db, start_probe_hub  # noqa: F401 - fixtures

PROBE = ["tests.plugins.consult_allow", "tests.plugins.found_probe"]
FAST_RETRY = {"events_retry_base_secs": 0.05, "events_retry_max_secs": 0.2}


async def probe_hub(make_hub, **extra) -> RunningHub:
    return await make_hub(plugin_modules=PROBE, **{**FAST_RETRY, **extra})


async def poke(url: str, n: int) -> dict:
    status, data = await api(url, "POST", "/api/found_probe/poke", body={"n": n})
    assert status == 200, data
    return data


async def test_subscribing_to_an_undeclared_event_fails_start_up(make_hub) -> None:
    with pytest.raises(ConfigError, match=r"found_bad_subscriber\.listen.*nobody\.happened"):
        await make_hub(plugin_modules=["tests.plugins.found_bad_subscriber"])


async def test_emitting_an_undeclared_event_or_other_fields_raises(make_hub) -> None:
    running = await probe_hub(make_hub)
    with pytest.raises(EventError, match="not declared"):
        await running.hub.events.emit("found_probe.unknown", {"n": 1})
    with pytest.raises(EventError, match="declared fields"):
        await running.hub.events.emit("found_probe.poked", {"n": 1, "name": "张三"})
    assert await running.hub.db.events.count_documents({}) == 0


async def test_emit_is_durable_numbered_and_deduplicated(make_hub) -> None:
    running = await probe_hub(make_hub, **{"found_probe.hold_secs": 30})
    first = await running.hub.events.emit("found_probe.poked", {"n": 1}, dedupe="k1")
    again = await running.hub.events.emit("found_probe.poked", {"n": 1}, dedupe="k1")
    second = await running.hub.events.emit("found_probe.poked", {"n": 2})
    assert (first.id, first.seq) == (again.id, 1) and second.seq == 2 and first.id == seq_id(STREAM, 1)
    assert await running.hub.db.events.count_documents({}) == 2


async def test_the_request_does_not_wait_for_the_subscriber(make_hub) -> None:
    running = await probe_hub(make_hub, **{"found_probe.hold_secs": 30})
    event = await poke(running.url, 1)  # the subscriber holds for 30 s: the reply came without it
    assert await running.hub.db.events.find_one({"_id": event["id"]}) is not None
    assert await running.hub.db.found_probe_deliveries.count_documents({}) == 0


async def test_a_failing_subscriber_is_retried_and_gets_it_once_more(make_hub) -> None:
    running = await probe_hub(make_hub, **{"found_probe.fail_times": 3})
    first = await poke(running.url, 1)
    second = await poke(running.url, 2)
    db = running.hub.db
    await eventually(lambda: db.found_probe_deliveries.count_documents({}), lambda n: n == 2, timeout=30)
    calls = {d["_id"]: d["calls"] for d in await db.found_probe_calls.find().to_list()}
    assert calls == {first["id"]: 4, second["id"]: 4}  # three failures, then the success; nothing lost
    cursor = await db.event_cursors.find_one({"_id": "found_probe.record"})
    assert cursor["seq"] == second["seq"] and cursor["failing"] is None


async def test_events_are_delivered_in_order(make_hub) -> None:
    running = await probe_hub(make_hub)
    await asyncio.gather(*(poke(running.url, n) for n in range(60)))
    db = running.hub.db
    await eventually(lambda: db.found_probe_deliveries.count_documents({}), lambda n: n == 60, timeout=30)
    delivered = await db.found_probe_deliveries.find().sort("seq", 1).to_list()
    assert [d["seq"] for d in delivered] == list(range(1, 61))
    times = [d["delivered_at"] for d in delivered]
    assert times == sorted(times)


async def test_kill_9_after_the_reply_then_restart_delivers_once(mongo: EmbeddedDatabase, db_name: str,
                                                                  tmp_path: Path) -> None:
    held = start_probe_hub(mongo, db_name, tmp_path, "node1", HUB_FOUND_PROBE_HOLD_SECS="60",
                           HUB_EVENTS_LEASE_SECS="2")
    event = await poke(held.url, 7)
    held.kill()  # right after the reply: the subscriber was called but is still holding, its effect not done
    async with probe_db(held) as db:
        assert await db.events.find_one({"_id": event["id"]}) is not None
        assert await db.found_probe_deliveries.count_documents({}) == 0
        restarted = start_probe_hub(mongo, db_name, tmp_path, "node1b", HUB_EVENTS_LEASE_SECS="2")
        try:
            found = await eventually(lambda: db.found_probe_deliveries.find().to_list(), bool, timeout=60)
            assert [(d["_id"], d["n"], d["node"]) for d in found] == [(event["id"], 7, "node1b")]
            cursor = await eventually(lambda: db.event_cursors.find_one({"_id": "found_probe.record"}),
                                      lambda c: c["seq"] == event["seq"], timeout=10)
            assert cursor["seq"] == event["seq"]
        finally:
            await asyncio.to_thread(restarted.stop)


async def test_two_processes_each_event_handled_by_one(pair) -> None:  # noqa: F811 - the fixture
    sent = await asyncio.gather(*(poke(pair[n % 2].url, n) for n in range(40)))
    async with probe_db(pair[0]) as db:
        await eventually(lambda: db.found_probe_deliveries.count_documents({}), lambda n: n == 40, timeout=60)
        calls = await db.found_probe_calls.find().to_list()
        events = await db.events.find().to_list()
    assert {e["node"] for e in events} == {"node1", "node2"}  # emitted on both
    assert sorted(c["_id"] for c in calls) == sorted(s["id"] for s in sent)
    assert all(c["calls"] == 1 and len(c["nodes"]) == 1 for c in calls)  # each handled once, by one process
