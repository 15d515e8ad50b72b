"""Domain events: declared, durable, numbered, and delivered to each subscriber at least once, in order, off the
request path (Zulip's ``send_event`` and queues are the model).

- A plugin declares what it emits (``register_events`` → ``EventType(name, fields, doc)``) and what it listens
  to (``register_subscribers`` → ``Subscriber(name, events, handle)``). A subscription to an undeclared event,
  or a name declared twice, fails start-up; emitting an undeclared event, or a payload whose keys are not
  exactly the declared fields, raises ``EventError`` at the emit.
- ``emit`` appends the event to the ``events`` collection through ``SequencedLog`` (the same gap-free numbers
  and grouped journaled writes as messages) and returns once it is durable; nothing else happens on the
  request's path.
- Each subscriber, named ``<plugin>.<name>``, has a stored cursor (``event_cursors``) and a dispatcher that
  reads the events after it in order, calls the subscriber, and advances the cursor. Only the process holding
  the lease ``events:<subscriber>`` (``hub.locks``) dispatches it. A failing call is logged with the
  subscriber's name and retried with exponential backoff (capped), never skipped: later events of that
  subscriber wait. A crash between the call and the cursor update repeats the call, so a subscriber that must
  have each effect once keys it by ``event.id``.
- A new event wakes the dispatchers through the broker (every process, with Redis); a short poll covers a
  lost wake-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hub.errors import ConfigError
from hub.ids import new_id, now
from hub.locks import Lease, LockBusy, Locks
from hub.sequencing import SequencedLog, seq_range
from hub.store import Index
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

STREAM = "ev"  # every event takes the next number of this one key: one total order for all subscribers
HEAD_ID = "events_head"
READ_BATCH = 200
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
SUBSCRIBER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
INDEXES = [
    Index("events", [("stream", 1), ("dedupe", 1)], "stream_dedupe_unique", unique=True),
]


class EventError(Exception):
    """An emit that breaks the declarations: a programming error, not bad input."""


@dataclass(frozen=True)
class EventType:
    """One declared event: its name (``<plugin>.<what_happened>``), its payload's fields and what it means."""

    name: str
    fields: tuple[str, ...]
    doc: str = ""


@dataclass(frozen=True)
class Event:
    """One stored event as a subscriber gets it; ``id`` is unique and stable across redeliveries."""

    id: str
    seq: int
    name: str
    payload: dict[str, Any]
    at: datetime


Handle = Callable[[Event], Awaitable[None] | None]


@dataclass(frozen=True)
class Subscriber:
    """A durable subscription: ``name`` is unique in the plugin (the cursor is kept as ``<plugin>.<name>``)."""

    name: str
    events: tuple[str, ...]
    handle: Handle


@dataclass(frozen=True)
class DispatchSettings:
    lease_secs: float = 10.0
    poll_secs: float = 1.0
    retry_base_secs: float = 0.5
    retry_max_secs: float = 60.0


Announce = Callable[[int], Awaitable[None]]
Watcher = Callable[[Event], None]


def to_event(doc: dict[str, Any]) -> Event:
    return Event(doc["_id"], doc["seq"], doc["name"], doc["payload"], doc["at"])


class EventLog:
    """The durable event log of the hub (``hub.events``)."""

    def __init__(self, db: AsyncDatabase, locks: Locks, *, node_id: str, batch_max: int,
                 settings: DispatchSettings, announce: Announce) -> None:
        self._events = db.events
        self._cursors = db.event_cursors
        self._state = db.hub_state
        self._locks = locks
        self._node = node_id
        self._settings = settings
        self._announce = announce
        self.log = SequencedLog(self._events, key_field="stream", seq_field="seq", dedupe_field="dedupe",
                                batch_max=batch_max, floor=self._floor, after_insert=self._after_insert)
        self.types: dict[str, EventType] = {}
        self._owners: dict[str, str] = {}
        self.subscribers: dict[str, Subscriber] = {}
        self._watchers: list[tuple[frozenset[str], Watcher]] = []
        self._dispatchers: list[Dispatcher] = []

    # -- declarations (start-up) -----------------------------------------------------------------------------

    def declare(self, owner: str, types: Iterable[EventType]) -> None:
        for kind in types:
            if not isinstance(kind, EventType) or not EVENT_NAME.match(kind.name):
                raise ConfigError(f"{owner}: an event must be an EventType named like 'plugin.what_happened', "
                                  f"got {kind!r}")
            if kind.name in self.types:
                raise ConfigError(f"event {kind.name} is declared by both {self._owners[kind.name]} and {owner}")
            self.types[kind.name] = EventType(kind.name, tuple(kind.fields), kind.doc)
            self._owners[kind.name] = owner

    def subscribe(self, owner: str, subscriber: Subscriber) -> None:
        if not isinstance(subscriber, Subscriber) or not SUBSCRIBER_NAME.match(subscriber.name):
            raise ConfigError(f"{owner}: a subscriber must be a Subscriber with a lower-case name, got {subscriber!r}")
        full = f"{owner}.{subscriber.name}"
        undeclared = sorted(set(subscriber.events) - self.types.keys())
        if undeclared or not subscriber.events:
            raise ConfigError(f"subscriber {full} listens to undeclared event(s): {', '.join(undeclared) or 'none'}")
        if full in self.subscribers:
            raise ConfigError(f"subscriber {full} is declared twice")
        self.subscribers[full] = subscriber

    def watch(self, names: Iterable[str], watcher: Watcher) -> None:
        """Call ``watcher`` in this process right after each of these events is durable: a tap for tests and
        diagnostics, not a subscription (no cursor, no retry, only events emitted by this process)."""
        wanted = frozenset(names)
        undeclared = sorted(wanted - self.types.keys())
        if undeclared:
            raise EventError(f"watching undeclared event(s): {', '.join(undeclared)}")
        self._watchers.append((wanted, watcher))

    # -- emitting --------------------------------------------------------------------------------------------

    async def emit(self, name: str, payload: dict[str, Any], *, dedupe: str | None = None) -> Event:
        """Store the event durably and return it; subscribers get it later, each in its own dispatcher. With
        ``dedupe``, an emit repeated with the same key stores nothing new and returns the first event."""
        self._check(name, payload)
        doc = {"stream": STREAM, "dedupe": dedupe or new_id(), "name": name, "payload": payload, "at": now(),
               "node": self._node}
        stored, _new = await self.log.append(doc)
        event = to_event(stored)
        for names, watcher in self._watchers:
            if name in names:
                try:
                    watcher(event)
                except Exception:
                    log.exception("event watcher %r failed on %s", watcher, name)
        return event

    def _check(self, name: str, payload: dict[str, Any]) -> None:
        kind = self.types.get(name)
        if kind is None:
            raise EventError(f"event {name} is not declared (declare it in register_events)")
        if not isinstance(payload, dict) or set(payload) != set(kind.fields):
            keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
            raise EventError(f"event {name} carries {keys}, declared fields are {sorted(kind.fields)}")

    async def _floor(self, stream: str) -> int:
        head = await self._state.find_one({"_id": HEAD_ID})
        return head["seq"] if head else 0

    async def _after_insert(self, docs: list[dict[str, Any]]) -> None:
        """After each durable batch: keep the head (the next writer's floor) and wake the dispatchers."""
        last = max(d["seq"] for d in docs)
        await self._announce(last)  # first: the head is only a floor for writers, the wake-up is latency
        await self._state.update_one({"_id": HEAD_ID}, {"$max": {"seq": last}}, upsert=True)

    # -- dispatching -----------------------------------------------------------------------------------------

    def wake(self) -> None:
        """New events were stored (on some process): every dispatcher here looks now."""
        for dispatcher in self._dispatchers:
            dispatcher.woken.set()

    def start(self) -> None:
        for full, subscriber in self.subscribers.items():
            dispatcher = Dispatcher(full, subscriber, self._events, self._cursors, self._locks, self._settings,
                                    self._node)
            dispatcher.task = asyncio.create_task(dispatcher.run(), name=f"events-{full}")
            self._dispatchers.append(dispatcher)

    async def stop(self) -> None:
        """Stop dispatching (after the emits in flight are written); each lease is released for another node."""
        await self.log.drain()
        await cancel_and_wait(d.task for d in self._dispatchers)
        self._dispatchers.clear()


class LeaseLost(Exception):
    """This process no longer holds the subscriber's lease: stop, another process carries on."""


@dataclass
class Dispatcher:
    """Delivers the events of one subscriber, in order, from its stored cursor, on the node holding its lease."""

    name: str
    subscriber: Subscriber
    events: Any
    cursors: Any
    locks: Locks
    settings: DispatchSettings
    node: str
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    async def run(self) -> None:
        while True:
            try:
                async with self.locks.hold(f"events:{self.name}", self.settings.lease_secs) as lease:
                    await self._serve(lease)
            except asyncio.CancelledError:
                raise
            except LockBusy:  # another process dispatches this subscriber; take over if its lease runs out
                await asyncio.sleep(self.settings.lease_secs / 2)
            except LeaseLost:
                log.warning("subscriber %s: lease lost on %s; another process carries on", self.name, self.node)
            except Exception:
                log.exception("subscriber %s: dispatching failed; starting again", self.name)
                await asyncio.sleep(self.settings.poll_secs)

    async def _serve(self, lease: Lease) -> None:
        cursor = await self._load_cursor()
        while True:
            self.woken.clear()  # before reading, so that a wake-up during the read is not lost
            docs = await self.events.find(seq_range(STREAM, cursor)).sort("_id", 1).limit(READ_BATCH).to_list()
            if not docs:
                await self._idle()
            for doc in docs:
                self._check_lease(lease)
                if doc["name"] in self.subscriber.events:
                    await self._deliver(to_event(doc), lease)
                    await self._store_cursor(doc["seq"])
                cursor = doc["seq"]
            if docs and docs[-1]["name"] not in self.subscriber.events:
                await self._store_cursor(cursor)  # skipped events need not be read again

    def _check_lease(self, lease: Lease) -> None:
        if lease.lost.is_set():
            raise LeaseLost(self.name)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.woken.wait(), self.settings.poll_secs)

    async def _deliver(self, event: Event, lease: Lease) -> None:
        """Call the subscriber until it succeeds, pausing longer after each failure (up to the cap)."""
        attempt = 0
        while True:
            try:
                result = self.subscriber.handle(event)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                delay = min(self.settings.retry_max_secs, self.settings.retry_base_secs * 2 ** (attempt - 1))
                log.exception("subscriber %s failed on event %s %s (attempt %d); retrying in %.2f s",
                              self.name, event.name, event.id, attempt, delay)
                await self._note_failure(event, attempt, exc)
                await asyncio.sleep(delay)
                self._check_lease(lease)
            else:
                return

    async def _load_cursor(self) -> int:
        doc = await self.cursors.find_one({"_id": self.name})
        if doc is None:
            await self.cursors.update_one({"_id": self.name}, {"$setOnInsert": {"seq": 0}}, upsert=True)
            return 0
        return int(doc["seq"])

    async def _store_cursor(self, seq: int) -> None:
        # $max: a process that lost its lease late never moves the cursor back over another's progress.
        await self.cursors.update_one({"_id": self.name}, {"$max": {"seq": seq},
                                                           "$set": {"node": self.node, "at": now(), "failing": None}})

    async def _note_failure(self, event: Event, attempt: int, exc: Exception) -> None:
        try:
            await self.cursors.update_one({"_id": self.name}, {"$set": {"failing": {
                "event": event.id, "attempts": attempt, "error": repr(exc)[:500], "at": now()}}})
        except Exception:  # the record is for operators; the retry itself goes on
            log.exception("subscriber %s: recording the failure failed", self.name)
