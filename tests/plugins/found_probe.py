"""Test plugin for the locks, the shared cache and durable events: routes that take a lock, compute a cached
value once and emit an event, and a subscriber that records each delivery in the plugin's own collections.

Settings: ``found_probe.fail_times`` (the subscriber raises on the first N calls of each event) and
``found_probe.hold_secs`` (it waits this long before its effect: a window to kill the hub in).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from pymongo.errors import DuplicateKeyError

from handlers.base import BaseHandler
from hub import Event, EventType, Setting, Subscriber, hookimpl
from hub.ids import now

POKED = "found_probe.poked"


@hookimpl
def register_settings() -> list[Setting]:
    return [Setting("found_probe.fail_times", int, 0, "Calls of each event the subscriber fails."),
            Setting("found_probe.hold_secs", float, 0.0, "Pause of the subscriber before its effect.")]


@hookimpl
def register_events() -> list[EventType]:
    return [EventType(POKED, ("n",), "The probe was poked (test only).")]


class PokeHandler(BaseHandler):
    async def post(self) -> None:
        """Emit one probe event."""
        event = await self.hub.events.emit(POKED, {"n": self.json_body().get("n")})
        self.reply({"id": event.id, "seq": event.seq})


class CriticalHandler(BaseHandler):
    async def post(self) -> None:
        """A read-modify-write of a counter under the probe's lock, with its interval recorded."""
        db = self.hub.db
        async with self.hub.locks.hold("found_probe:critical", ttl_secs=10, wait_secs=60):
            start = time.time()
            doc = await db.found_probe_counter.find_one({"_id": "counter"}) or {"value": 0}
            await asyncio.sleep(0.02)  # widen the window a second holder would fall into
            await db.found_probe_counter.replace_one({"_id": "counter"}, {"value": doc["value"] + 1}, upsert=True)
            await db.found_probe_intervals.insert_one({"start": start, "end": time.time(),
                                                       "node": self.hub.node_id})
        self.reply({"ok": True})


class TokenHandler(BaseHandler):
    async def post(self) -> None:
        """The probe's shared token, computed once for the cluster."""
        db = self.hub.db

        async def compute() -> str:
            await db.found_probe_computations.insert_one({"node": self.hub.node_id, "at": now()})
            await asyncio.sleep(0.3)
            return uuid.uuid4().hex

        token = await self.hub.cache.get_or_compute("found_probe:token", 60, compute, wait_secs=30)
        self.reply({"token": token, "node": self.hub.node_id})


@hookimpl
def register_routes(hub: Any) -> list[tuple]:
    return [(r"/api/found_probe/poke", PokeHandler), (r"/api/found_probe/critical", CriticalHandler),
            (r"/api/found_probe/token", TokenHandler)]


@hookimpl
def register_subscribers(hub: Any) -> list[Subscriber]:
    async def record(event: Event) -> None:
        calls = await hub.db.found_probe_calls.find_one_and_update(
            {"_id": event.id}, {"$inc": {"calls": 1}, "$push": {"nodes": hub.node_id}}, upsert=True,
            return_document=True)
        calls = calls or await hub.db.found_probe_calls.find_one({"_id": event.id})
        if calls["calls"] <= hub.config["found_probe.fail_times"]:
            raise RuntimeError(f"probe fails call {calls['calls']} on purpose")
        await asyncio.sleep(hub.config["found_probe.hold_secs"])
        with contextlib.suppress(DuplicateKeyError):  # the effect, idempotent by event id
            await hub.db.found_probe_deliveries.insert_one({"_id": event.id, "seq": event.seq,
                                                            "n": event.payload["n"], "node": hub.node_id,
                                                            "emitted_at": event.at, "delivered_at": now()})
    return [Subscriber("record", (POKED,), record)]
