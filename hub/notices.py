"""Notices (通知): reminders, mass messages, alerts and plugin notices in each user's inbox, numbered per user
so that a client resumes with ``sync`` exactly where it stopped (guarantee 3 holds for notices too)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from hub.errors import InvalidInput
from hub.ids import iso, new_id, now
from hub.sequencing import SequencedLog, seq_range
from hub.store import Index

CORE_KINDS = ("reminder", "mass", "alert", "consultation", "system")
INDEXES = [
    Index("inbox", [("user", 1), ("dedupe", 1)], "user_dedupe_unique", unique=True),
]
SYNC_MAX_NOTICES = 500

Publish = Callable[[list[str], dict[str, Any]], Awaitable[None]]


class Router(Protocol):
    """What happens after notices are stored and pushed (``hub.channels``: presence and the fallback chain)."""

    def check_chain(self, chain: list[str], where: str = ...) -> None: ...
    async def route(self, docs: list[dict[str, Any]], chain: list[str] | None, key: str) -> None: ...


def render_notice(doc: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notice", "inbox": doc["inbox"], "kind": doc["kind"], "title": doc["title"],
            "body": doc["body"], "data": doc.get("data") or {}, "ts": iso(doc["ts"])}


class Notices:
    """Stores notices durably, then delivers them live to whoever is online."""

    def __init__(self, db: AsyncDatabase, *, publish: Publish, kinds: Iterable[str], batch_max: int,
                 router: Router | None = None) -> None:
        self._inbox = db.inbox
        self._heads = db.inbox_heads
        self._publish = publish
        self._router = router
        self.kinds = frozenset(kinds)
        self.log = SequencedLog(self._inbox, key_field="user", seq_field="inbox", dedupe_field="dedupe",
                                batch_max=batch_max, floor=self._floor, after_insert=self._update_heads)

    async def _floor(self, user_id: str) -> int:
        head = await self._heads.find_one({"_id": user_id})
        return head["seq"] if head else 0

    async def _update_heads(self, docs: list[dict[str, Any]]) -> None:
        latest: dict[str, int] = {}
        for doc in docs:
            latest[doc["user"]] = max(latest.get(doc["user"], 0), doc["inbox"])
        await self._heads.bulk_write([UpdateOne({"_id": u}, {"$max": {"seq": s}}, upsert=True)
                                      for u, s in latest.items()], ordered=False)

    async def notify(self, user_ids: Iterable[str], *, kind: str, title: str, body: str = "",
                     data: dict[str, Any] | None = None, dedupe: str | None = None,
                     chain: list[str] | None = None) -> int:
        """Put one notice in each user's inbox and deliver it: live to a user with a socket, else through the
        channel chain (``chain``, or the one configured for the kind), off the request's path. With ``dedupe``,
        a user who already has a notice with that key gets nothing new (safe to retry: a retry also completes
        a hand-over to the chain an interrupted call left undone). Returns how many notices were stored."""
        if kind not in self.kinds:
            raise InvalidInput(f"未知的通知类型 {kind}", field="kind")
        if chain is not None and self._router is not None:
            self._router.check_chain(chain)
        key = dedupe or new_id()
        ts = now()
        docs = [{"user": u, "kind": kind, "title": title, "body": body, "data": data or {}, "ts": ts,
                 "dedupe": key} for u in dict.fromkeys(user_ids)]
        results = await asyncio.gather(*(self.log.append(doc) for doc in docs))
        for stored, new in results:
            if new:
                await self._publish([stored["user"]], render_notice(stored))
        if self._router is not None:
            await self._router.route([stored for stored, _ in results], chain, key)
        return sum(1 for _, new in results if new)

    async def recent(self, user_id: str, limit: int, before: int | None = None) -> list[dict[str, Any]]:
        """The user's newest notices, newest first (``before``: only those with a lower inbox seq)."""
        docs = await self._inbox.find(seq_range(user_id, 0, before)).sort("_id", -1).limit(limit).to_list()
        return [render_notice(d) for d in docs]

    async def since(self, user_id: str, inbox_seq: Any) -> list[dict[str, Any]]:
        if not isinstance(inbox_seq, int) or isinstance(inbox_seq, bool) or inbox_seq < 0:
            raise InvalidInput("inbox 必须是非负整数", field="inbox")
        docs = await self._inbox.find(seq_range(user_id, inbox_seq)).sort("_id", 1).limit(SYNC_MAX_NOTICES).to_list()
        return [render_notice(d) for d in docs]
