"""The operation audit trail (操作审计): who did what to which object, when and from where.

Security events (failed logins, lockouts, refused requests) go into the same trail, but an attacker makes them at
will: each is counted into one record per action and subject (a user, or an address) per
``audit_security_window_secs``, so that a flood of them adds one record a window, not one a request."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hub.ids import new_id, now
from hub.pages import page
from hub.store import Index

log = logging.getLogger(__name__)

INDEXES = [
    Index("audit", [("actor", 1), ("_id", -1)], "actor_id"),
    Index("audit", [("action", 1), ("_id", -1)], "action_id"),
    Index("audit", [("at", -1)], "at"),
    Index("audit", [("bucket", 1), ("until", -1)], "bucket_until"),
]


@dataclass(frozen=True)
class RequestContext:
    """Who acts and from where — what an audit entry needs — handed from a handler to a service method
    (``BaseHandler.context(user)``). ``actor`` is None for the hub's own work (a scheduled job)."""

    actor: dict[str, Any] | None
    address: str = ""

    @property
    def person(self) -> dict[str, Any]:
        """The acting user, for work only a person does (a review, a decision): the hub's own context has none,
        and handing it to such work is a programming error, not bad input."""
        if self.actor is None:
            raise TypeError("this action needs a person; the hub's own context (SYSTEM) has none")
        return self.actor


SYSTEM = RequestContext(actor=None, address="")


class AuditLog:
    """Records and lists audit entries. Plugins record through the same object (``hub.audit``)."""

    def __init__(self, db: AsyncDatabase, security_window_secs: float = 60.0) -> None:
        self._entries = db.audit
        self._window = timedelta(seconds=security_window_secs)

    @staticmethod
    def _entry(actor: dict[str, Any] | None, action: str, target: str, address: str, region: str,
               details: dict[str, Any] | None) -> dict[str, Any]:
        return {"_id": new_id(), "actor": actor["_id"] if actor else None,
                "actor_name": actor["name"] if actor else "system", "actor_role": actor["role"] if actor else None,
                "action": action, "target": target, "address": address, "at": now(),
                "region": region or (actor or {}).get("region", ""), "details": details or {}}

    async def record(self, *, actor: dict[str, Any] | None, action: str, target: str, address: str = "",
                     region: str = "", details: dict[str, Any] | None = None) -> str:
        """Store one entry; ``action`` is a dotted verb (``sensitive_word.create``), ``target`` the object id."""
        entry = self._entry(actor, action, target, address, region, details)
        await self._entries.insert_one(entry)
        log.info("audit %s by %s on %s from %s", action, entry["actor"], target, address)
        return entry["_id"]

    async def security_event(self, *, action: str, subject: str, actor: dict[str, Any] | None, target: str,
                             address: str, region: str = "", details: dict[str, Any] | None = None) -> None:
        """Count one security event: the first of its action and ``subject`` in a window makes the record (with
        these details, ``count`` 1); the others in the window add to its ``count`` and move its ``last_at``.
        (Two processes may each open a record for one window: the bound is per process, still a small one.)"""
        entry = self._entry(actor, action, target, address, region, None)
        moment = entry["at"]
        bucket = f"{action}|{subject}"
        fields = {k: v for k, v in entry.items() if k != "details"}
        fields.update({f"details.{k}": v for k, v in (details or {}).items()})
        result = await self._entries.update_one(
            {"bucket": bucket, "until": {"$gt": moment}},
            {"$inc": {"details.count": 1}, "$set": {"details.last_at": moment},
             "$setOnInsert": {**fields, "bucket": bucket, "until": moment + self._window}}, upsert=True)
        if result.upserted_id is not None:
            log.warning("security %s by %s on %s from %s", action, entry["actor"], target, address)

    async def list(self, scope: dict[str, Any], *, actor: str | None, action: str | None, since: datetime | None,
                   until: datetime | None, limit: int, cursor: str | None, target: str | None = None,
                   actor_name: str | None = None) -> tuple[list[dict], str | None]:
        """Entries in ``scope``, newest first; ``action`` ending in "." matches every action under it."""
        query: dict[str, Any] = dict(scope)
        if actor:
            query["actor"] = actor
        if action:
            query["action"] = {"$regex": "^" + re.escape(action)} if action.endswith(".") else action
        if target:
            query["target"] = target
        if actor_name and actor_name.strip():
            query["actor_name"] = {"$regex": re.escape(actor_name.strip())}
        if since or until:
            query["at"] = {k: v for k, v in (("$gte", since), ("$lt", until)) if v}
        return await page(self._entries, query, limit=limit, cursor=cursor)
