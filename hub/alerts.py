"""Alerts (预警): a record of every ``alert`` or ``block`` hit, pushed at once to the supervisors of the sender's
region and kept for tracing (white paper 2.4.3.8)."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hub.accounts import public_user
from hub.errors import InvalidInput, NotFound
from hub.ids import iso, new_id, now
from hub.notices import Notices
from hub.pages import page
from hub.policy import can_supervise, region_filter
from hub.screening import ScreenResult
from hub.store import Index

log = logging.getLogger(__name__)

INDEXES = [
    Index("alerts", [("status", 1), ("region", 1), ("_id", -1)], "status_region"),
    Index("alerts", [("user.id", 1), ("_id", -1)], "user"),
    Index("alerts", [("categories", 1)], "categories"),
]
ALERT_STATUSES = ("open", "resolved")
MAX_NOTE_CHARS = 1000
CONTEXT_MESSAGES = 5  # messages shown on each side of the one that raised the alert


def console_link(alert_id: str) -> str:
    """Where the console shows this alert (the bell links there)."""
    return f"/supervision/alerts?id={alert_id}"


def render_alert(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "status": doc["status"], "user": doc["user"], "region": doc["region"],
            "where": doc["where"], "text": doc["text"], "words": doc["words"], "categories": doc["categories"],
            "action": doc["action"], "created_at": iso(doc["created_at"]),
            "resolved_by": doc.get("resolved_by"), "resolved_at": iso(doc.get("resolved_at")),
            "note": doc.get("note")}


class Alerts:
    def __init__(self, db: AsyncDatabase, notices: Notices) -> None:
        self._alerts = db.alerts
        self._users = db.users
        self._notices = notices

    async def raise_alert(self, result: ScreenResult, text: str, user: dict[str, Any],
                          where: dict[str, Any]) -> dict[str, Any]:
        """Store the alert, then tell the supervisors of the sender's region (their inbox, live if online)."""
        region = user.get("region", "")
        doc = {"_id": new_id(), "status": "open", "user": {**public_user(user), "region": region},
               "region": region, "where": where, "text": text, "action": result.action,
               "words": sorted({h.word for h in result.hits if h.action in ("alert", "block")}),
               "categories": sorted({h.category for h in result.hits if h.category}), "created_at": now()}
        await self._alerts.insert_one(doc)
        supervisors = [u["_id"] async for u in self._users.find({"role": "supervisor", "disabled": False},
                                                                 {"_id": 1, "region": 1, "role": 1})
                       if can_supervise(u, region)]
        if supervisors:
            await self._notices.notify(supervisors, kind="alert", title="敏感词预警",
                                       body=f"{user['name']} 输入了敏感词：{'、'.join(doc['words'])}",
                                       data={"alert": render_alert(doc),
                                             "links": {"console": console_link(doc["_id"])}},
                                       dedupe=f"alert:{doc['_id']}")
        log.info("alert %s: user %s hit %s (%s)", doc["_id"], user["_id"], doc["words"], result.action)
        return doc

    async def list(self, viewer: dict[str, Any], *, status: str | None, category: str | None,
                   region: str | None, user_id: str | None, since: datetime | None, until: datetime | None,
                   limit: int, cursor: str | None, word: str | None = None
                   ) -> tuple[list[dict[str, Any]], str | None]:
        query: dict[str, Any] = region_filter(viewer)
        if status:
            if status not in ALERT_STATUSES:
                raise InvalidInput("status 只能是 open 或 resolved", field="status")
            query["status"] = status
        if category:
            query["categories"] = category
        if region:
            query = {"$and": [query, {"region": {"$regex": "^" + "".join(c for c in region if c.isdigit())}}]}
        if user_id:
            query["user.id"] = user_id
        if word:  # any alert one of whose words contains this text
            query["words"] = {"$regex": re.escape(word.strip())}
        if since or until:
            query["created_at"] = {k: v for k, v in (("$gte", since), ("$lt", until)) if v}
        return await page(self._alerts, query, limit=limit, cursor=cursor)

    async def get(self, viewer: dict[str, Any], alert_id: str) -> dict[str, Any]:
        """One alert of the viewer's region (another region's does not exist for them)."""
        doc = await self._alerts.find_one({"_id": alert_id})
        if doc is None or not can_supervise(viewer, doc["region"]):
            raise NotFound("预警不存在", id=alert_id)
        return doc

    async def resolve(self, viewer: dict[str, Any], alert_id: str, note: Any) -> dict[str, Any]:
        if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(f"处理意见必填，最多 {MAX_NOTE_CHARS} 字", field="note")
        doc = await self.get(viewer, alert_id)
        update = {"status": "resolved", "note": note.strip(), "resolved_by": viewer["_id"], "resolved_at": now()}
        await self._alerts.update_one({"_id": alert_id}, {"$set": update})
        return {**doc, **update}
