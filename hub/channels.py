"""Notification channels (通知渠道): how a notice reaches a user who has no socket open.

Every notice is stored in the user's inbox first (``hub.notices``): the inbox is the record of truth, and
``sync`` delivers it whatever happens here. Then:

- a user with a live socket on any hub process (presence: the socket leases in Redis, and this process's own
  sessions) got the notice as a ``notice`` frame; it counts as delivered by ``ws`` and nothing else is tried.
  Presence is taken when the notice is pushed, not when the chain is walked: that is when the frame went out,
  and a backlog of the walker must not turn a user who read it live into one who gets an SMS too;
- for everyone else the configured chain (``notify_chain``, or ``notify_chain_by_kind`` for the notice's kind,
  or the caller's ``chain=``) is walked, each channel's ``send(user, notice)`` tried in order until one
  delivers or accepts. A channel that skips (no consent, no phone number) or fails (raises, times out) is
  recorded and the next one tried; when none takes it the notice waits in the inbox.

Channel sends never run on the request's path: ``Notices.notify`` emits the core event ``notice.stored``
(durable, in the same request) and the core subscriber ``hub.notify_fallback`` walks the chains. A hub killed
in between resumes where it stopped: every attempt is recorded in ``notice_deliveries`` (one record per notice
and channel, the ledger of which channel delivered what), and a channel with a record is not tried again. A send
cut off by a crash before its record is written is repeated: a channel whose provider can deduplicate passes
it ``notice["id"]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.errors import ConfigError
from hub.events import Event, EventLog, EventType, Subscriber
from hub.ids import iso, new_id, now
from hub.notices import render_notice
from hub.pages import page
from hub.store import Index, find_in

log = logging.getLogger(__name__)

WS = "ws"  # the live socket: not a registered channel, always first
INBOX = "inbox"  # the terminal record when no channel took a notice: it waits for the user's sync
RESERVED_NAMES = frozenset({WS, INBOX})
NOTICE_STORED = "notice.stored"
EVENTS = [EventType(NOTICE_STORED, ("notices", "chain"),
                    "Notices were stored in inboxes: notices is a list of {id, user, kind, present}; chain is "
                    "the caller's channel chain, or null for the configured one.")]
SUBSCRIBER = "notify_fallback"
NOTICES_PER_EVENT = 200  # a mass message becomes several events, each small enough to read and retry whole
PARALLEL_SENDS = 16  # notices of one event whose chains are walked at once (one slow gateway is not serial)
ERROR_CHARS = 500

DELIVERED, ACCEPTED, SKIPPED, FAILED, WAITING = "delivered", "accepted", "skipped", "failed", "waiting"
OUTCOMES = (DELIVERED, ACCEPTED, SKIPPED, FAILED, WAITING)
TAKEN = frozenset({DELIVERED, ACCEPTED})  # the chain stops here
INDEXES = [
    Index("notice_deliveries", [("notice", 1), ("channel", 1)], "notice_channel_unique", unique=True),
    Index("notice_deliveries", [("user", 1), ("_id", -1)], "user_recent"),
]


class ChannelError(Exception):
    """A notify with a chain naming no registered channel: a programming error, not bad input."""


@dataclass(frozen=True)
class Outcome:
    """What a channel did with one notice: ``delivered`` (it reached the user), ``accepted`` (a gateway took
    it; delivery not confirmed), ``skipped`` (the channel does not apply: ``reason`` says why) or ``failed``
    (``reason`` is the error). ``ref`` is the provider's id of the message, when it gives one."""

    status: str
    reason: str = ""
    ref: str = ""

    @classmethod
    def delivered(cls, ref: str = "") -> Outcome:
        return cls(DELIVERED, ref=ref)

    @classmethod
    def accepted(cls, ref: str = "") -> Outcome:
        return cls(ACCEPTED, ref=ref)

    @classmethod
    def skipped(cls, reason: str) -> Outcome:
        return cls(SKIPPED, reason=reason)

    @classmethod
    def failed(cls, error: str) -> Outcome:
        return cls(FAILED, reason=error[:ERROR_CHARS])


@runtime_checkable
class Channel(Protocol):
    """A way to reach a user besides their socket, registered by a plugin (``register_channels``)."""

    name: str

    async def send(self, user: dict[str, Any], notice: dict[str, Any]) -> Outcome: ...


Presence = Callable[[list[str]], Awaitable[set[str]]]


def parse_chains(entries: Iterable[str]) -> dict[str, list[str]]:
    """``notify_chain_by_kind`` entries ``"<kind>=<channel>><channel>"`` (``"alert="``: no fallback)."""
    chains: dict[str, list[str]] = {}
    for entry in entries:
        kind, sep, names = entry.partition("=")
        if not sep or not kind.strip():
            raise ConfigError(f"notify_chain_by_kind entry {entry!r} must look like 'reminder=wechat>sms'")
        chains[kind.strip()] = [n.strip() for n in names.split(">") if n.strip()]
    return chains


def render_delivery(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "notice": doc["notice"], "user": doc["user"], "kind": doc["kind"],
            "channel": doc["channel"], "outcome": doc["outcome"], "reason": doc.get("reason", ""),
            "ref": doc.get("ref", ""), "at": iso(doc["at"])}


def notice_for_channel(doc: dict[str, Any]) -> dict[str, Any]:
    """What a channel gets: the notice as its frame shows it, with its stable ``id`` and ``user``."""
    view = {k: v for k, v in render_notice(doc).items() if k != "type"}
    return {"id": doc["_id"], "user": doc["user"], **view}


class Channels:
    """The registered channels, presence, the chains and the delivery ledger (``hub.channels``)."""

    def __init__(self, db: AsyncDatabase, events: EventLog, *, presence: Presence, default_chain: list[str],
                 chains_by_kind: dict[str, list[str]], send_timeout_secs: float, node_id: str) -> None:
        self._db = db
        self._records = db.notice_deliveries
        self._events = events
        self._presence = presence
        self._node = node_id
        self.default_chain = list(default_chain)
        self.chains_by_kind = chains_by_kind
        self.send_timeout_secs = send_timeout_secs
        self.channels: dict[str, Channel] = {}
        self._owners: dict[str, str] = {}

    # -- start-up --------------------------------------------------------------------------------------------

    def register(self, owner: str, channels: Iterable[Any]) -> None:
        for channel in channels:
            name = getattr(channel, "name", None)
            if not isinstance(channel, Channel) or not isinstance(name, str) or not name:
                raise ConfigError(f"{owner}: a channel needs a name and an async send(user, notice), "
                                  f"got {channel!r}")
            if name in RESERVED_NAMES:
                raise ConfigError(f"{owner}: channel name {name!r} is reserved by the core")
            if name in self.channels:
                raise ConfigError(f"channel {name} is registered by both {self._owners[name]} and {owner}")
            self.channels[name] = channel
            self._owners[name] = owner

    def check_chains(self, kinds: Iterable[str]) -> None:
        """Every configured chain names registered channels and known kinds; else start-up fails (a typo would
        otherwise switch a fallback off without a word)."""
        unknown_kinds = sorted(set(self.chains_by_kind) - set(kinds))
        if unknown_kinds:
            raise ConfigError(f"notify_chain_by_kind names unknown notice kind(s): {', '.join(unknown_kinds)}")
        for where, chain in [("notify_chain", self.default_chain),
                             *((f"notify_chain_by_kind[{k}]", c) for k, c in self.chains_by_kind.items())]:
            if self._unknown(chain):
                raise ConfigError(self._unknown_message(where, chain))

    def check_chain(self, chain: list[str], where: str = "notify(chain=...)") -> None:
        """A caller's chain: an unknown channel name is a programming error, raised before anything is stored."""
        if not isinstance(chain, list) or not all(isinstance(n, str) for n in chain) or self._unknown(chain):
            raise ChannelError(self._unknown_message(where, chain))

    def _unknown(self, chain: list[str]) -> list[str]:
        return [name for name in chain if name not in self.channels]

    def _unknown_message(self, where: str, chain: Any) -> str:
        known = ", ".join(sorted(self.channels)) or "none registered"
        unknown = self._unknown(chain) if isinstance(chain, list) else chain
        return f"{where} names unknown channel(s): {unknown} (known: {known})"

    def chain_for(self, kind: str, chain: list[str] | None = None) -> list[str]:
        if chain is not None:
            return chain
        return self.chains_by_kind.get(kind, self.default_chain)

    def subscriber(self) -> Subscriber:
        return Subscriber(SUBSCRIBER, (NOTICE_STORED,), self._handle)

    # -- on the request's path: presence and the durable hand-over --------------------------------------------

    async def route(self, docs: list[dict[str, Any]], chain: list[str] | None, key: str) -> None:
        """After notices are stored (and pushed to live sockets): note who was present and hand the rest to
        the fallback subscriber through a durable event. ``key`` (the notify's dedupe key) makes a retried
        notify emit nothing new."""
        if not docs:
            return
        present = await self._presence(sorted({d["user"] for d in docs}))
        for first in range(0, len(docs), NOTICES_PER_EVENT):
            chunk = docs[first:first + NOTICES_PER_EVENT]
            users = hashlib.sha256("\n".join(sorted(d["user"] for d in chunk)).encode()).hexdigest()[:24]
            await self._events.emit(NOTICE_STORED, {
                "notices": [{"id": d["_id"], "user": d["user"], "kind": d["kind"], "present": d["user"] in present}
                            for d in chunk],
                "chain": chain}, dedupe=f"notify:{key}:{users}")

    # -- off the request's path: walking the chains ------------------------------------------------------------

    async def _handle(self, event: Event) -> None:
        items = event.payload["notices"]
        ids = [i["id"] for i in items]
        done: dict[str, dict[str, str]] = {}
        for record in await find_in(self._records, "notice", ids, {"notice": 1, "channel": 1, "outcome": 1}):
            done.setdefault(record["notice"], {})[record["channel"]] = record["outcome"]
        users = {u["_id"]: u for u in await find_in(self._db.users, "_id", sorted({i["user"] for i in items}),
                                                    {"password_hash": 0})}
        notices = {n["_id"]: n for n in await find_in(self._db.inbox, "_id", ids, {"dedupe": 0})}
        gate = asyncio.Semaphore(PARALLEL_SENDS)

        async def walk(item: dict[str, Any]) -> None:
            async with gate:
                await self._walk(item, event, done.get(item["id"], {}), users.get(item["user"]),
                                 notices.get(item["id"]))

        results = await asyncio.gather(*(walk(i) for i in items), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:  # the ledger keeps what was done: the retry of this event resumes after it
            raise errors[0]

    async def _walk(self, item: dict[str, Any], event: Event, done: dict[str, str], user: dict[str, Any] | None,
                    doc: dict[str, Any] | None) -> None:
        """One notice: ``ws`` when its user was present, else its chain from the first channel without a
        record (``done``: channel → outcome recorded before, by an earlier run of this event)."""
        record = self._recorder(item, event, user)
        if WS in done or INBOX in done or TAKEN & set(done.values()):
            return  # a repeat of an event already walked to its end
        if item["present"]:
            await record(WS, Outcome.delivered())
            return
        if user is None or doc is None:
            await record(INBOX, Outcome(WAITING, "user or notice not found"))
            return
        chain = self.chain_for(item["kind"], event.payload["chain"])
        notice = notice_for_channel(doc)
        for name in chain:
            if name in done:
                continue  # skipped or failed before a crash: not tried twice
            outcome = await self._attempt(name, user, notice)
            await record(name, outcome)
            if outcome.status in TAKEN:
                return
        await record(INBOX, Outcome(WAITING, "no channel took it" if chain else "no fallback channel configured"))

    async def _attempt(self, name: str, user: dict[str, Any], notice: dict[str, Any]) -> Outcome:
        channel = self.channels.get(name)
        if channel is None:  # a chain= of an event stored before the channel was switched off
            return Outcome.skipped("channel not registered")
        try:
            outcome = await asyncio.wait_for(channel.send(user, notice), self.send_timeout_secs)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            log.warning("channel %s timed out on notice %s of %s after %.1f s; trying the next", name,
                        notice["id"], user["_id"], self.send_timeout_secs)
            return Outcome.failed(f"timed out after {self.send_timeout_secs} s")
        except Exception as exc:
            log.exception("channel %s failed on notice %s of %s; trying the next", name, notice["id"], user["_id"])
            return Outcome.failed(repr(exc))
        if not isinstance(outcome, Outcome) or outcome.status not in (DELIVERED, ACCEPTED, SKIPPED, FAILED):
            log.error("channel %s returned %r for notice %s, not an Outcome; trying the next", name, outcome,
                      notice["id"])
            return Outcome.failed(f"channel returned {outcome!r}"[:ERROR_CHARS])
        if outcome.status == FAILED:
            log.warning("channel %s failed on notice %s of %s: %s; trying the next", name, notice["id"],
                        user["_id"], outcome.reason)
        return outcome

    def _recorder(self, item: dict[str, Any], event: Event, user: dict[str, Any] | None
                  ) -> Callable[[str, Outcome], Awaitable[None]]:
        async def record(channel: str, outcome: Outcome) -> None:
            doc = {"_id": new_id(), "notice": item["id"], "user": item["user"], "kind": item["kind"],
                   "region": (user or {}).get("region", ""), "channel": channel, "outcome": outcome.status,
                   "reason": outcome.reason, "ref": outcome.ref, "event": event.id, "node": self._node,
                   "at": now()}
            with contextlib.suppress(DuplicateKeyError):  # a repeat: the first record stands
                await self._records.insert_one(doc)
        return record

    # -- the ledger --------------------------------------------------------------------------------------------

    async def deliveries(self, scope: dict[str, Any], *, user_id: str | None = None, notice_id: str | None = None,
                         channel: str | None = None, outcome: str | None = None, since: datetime | None = None,
                         until: datetime | None = None, limit: int = 20, cursor: str | None = None
                         ) -> tuple[list[dict[str, Any]], str | None]:
        """Delivery records, newest first, inside ``scope`` (a region filter), filtered as asked."""
        query: dict[str, Any] = dict(scope)
        for field, value in (("user", user_id), ("notice", notice_id), ("channel", channel), ("outcome", outcome)):
            if value:
                query[field] = value
        if since or until:
            query["at"] = {k: v for k, v in (("$gte", since), ("$lt", until)) if v}
        return await page(self._records, query, limit=limit, cursor=cursor)
