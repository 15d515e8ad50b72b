"""The operation audit trail (操作审计): who did what to which object, when and from where."""

from __future__ import annotations

import logging
from datetime import datetime
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
]


class AuditLog:
    """Records and lists audit entries. Plugins record through the same object (``hub.audit``)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._entries = db.audit

    async def record(self, *, actor: dict[str, Any] | None, action: str, target: str, address: str = "",
                     region: str = "", details: dict[str, Any] | None = None) -> str:
        """Store one entry; ``action`` is a dotted verb (``sensitive_word.create``), ``target`` the object id."""
        entry = {"_id": new_id(), "actor": actor["_id"] if actor else None,
                 "actor_name": actor["name"] if actor else "system", "actor_role": actor["role"] if actor else None,
                 "action": action, "target": target, "address": address, "at": now(),
                 "region": region or (actor or {}).get("region", ""), "details": details or {}}
        await self._entries.insert_one(entry)
        log.info("audit %s by %s on %s from %s", action, entry["actor"], target, address)
        return entry["_id"]

    async def list(self, scope: dict[str, Any], *, actor: str | None, action: str | None, since: datetime | None,
                   until: datetime | None, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
        query: dict[str, Any] = dict(scope)
        if actor:
            query["actor"] = actor
        if action:
            query["action"] = action
        if since or until:
            query["at"] = {k: v for k, v in (("$gte", since), ("$lt", until)) if v}
        return await page(self._entries, query, limit=limit, cursor=cursor)
