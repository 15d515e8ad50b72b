"""Consultations (在线咨询): the conversations between a resident and a doctor, and who may open one."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.accounts import public_user
from hub.audit import AuditLog, RequestContext
from hub.errors import ConversationClosed, Forbidden, InvalidInput, NotFound
from hub.events import EventLog, EventType
from hub.ids import iso, new_id, now
from hub.notices import Notices
from hub.pages import page
from hub.policy import CONSULTING_STAFF, require_participant, require_role
from hub.store import Index

INDEXES = [
    Index("conversations", [("open_key", 1)], "open_key_unique", unique=True),
    Index("conversations", [("participants", 1), ("status", 1), ("_id", -1)], "participant_status"),
]
EVENTS = [
    EventType("consultation.opened", ("conv", "resident_id", "doctor_id"),
              "A resident opened a consultation with a doctor (not emitted for one already open)."),
]
CACHE_TTL_SECS = 30.0
CACHE_SIZE = 50_000

Permission = Callable[[dict[str, Any], dict[str, Any]], Awaitable[bool]]
Candidates = Callable[[dict[str, Any]], Awaitable[list[str]]]
Publish = Callable[[list[str], dict[str, Any]], Awaitable[None]]
Announce = Callable[[str], Awaitable[None]]


class Consultations:
    """Opens, lists, ends and looks up conversations; keeps recently used ones in memory for the hot path.

    A cached conversation is dropped when any process changes it (``forget``, driven through the broker) and
    after ``CACHE_TTL_SECS`` in any case.
    """

    def __init__(self, db: AsyncDatabase, *, may_consult: Permission, list_doctors: Candidates,
                 audit: AuditLog, notices: Notices, events: EventLog, publish: Publish,
                 announce: Announce) -> None:
        self._convs = db.conversations
        self._users = db.users
        self._may_consult = may_consult
        self._list_doctors = list_doctors
        self._audit = audit
        self._notices = notices
        self._events = events
        self._publish = publish
        self._announce = announce
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    async def get(self, conv_id: Any) -> dict[str, Any]:
        if not isinstance(conv_id, str) or not conv_id:
            raise InvalidInput("会话 id 必须是字符串", field="conv")
        cached = self._cache.get(conv_id)
        if cached and time.monotonic() - cached[0] < CACHE_TTL_SECS:
            return cached[1]
        conv = await self._convs.find_one({"_id": conv_id}, {"last_message": 0, "read": 0})
        if conv is None:
            raise NotFound("会话不存在", conv=conv_id)
        self._cache[conv_id] = (time.monotonic(), conv)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return conv

    def forget(self, conv_id: str) -> None:
        self._cache.pop(conv_id, None)

    async def get_for(self, user: dict[str, Any], conv_id: Any) -> dict[str, Any]:
        """The conversation, if the user takes part in it (guarantee 6)."""
        conv = await self.get(conv_id)
        require_participant(user, conv)
        return conv

    async def get_open_for(self, user: dict[str, Any], conv_id: Any) -> dict[str, Any]:
        conv = await self.get_for(user, conv_id)
        if conv["status"] != "open":
            raise ConversationClosed(conv=conv["_id"])
        return conv

    async def open(self, ctx: RequestContext, doctor_id: Any) -> tuple[dict[str, Any], bool]:
        """A resident opens a consultation with a doctor, or gets the one already open. Returns it and whether it
        is new; a new one is audited, noticed to the doctor and emitted as ``consultation.opened``."""
        conv, created = await self._open(ctx.actor or {}, doctor_id)
        if created:
            resident = ctx.actor or {}
            await self._audit.record(actor=resident, action="consultation.open", target=conv["_id"],
                                     address=ctx.address, details={"doctor": conv["doctor"]["id"]})
            await self._notices.notify([conv["doctor"]["id"]], kind="consultation", title="新的在线咨询",
                                       body=f"{resident['name']} 发起了在线咨询", data={"conv": conv["_id"]},
                                       dedupe=f"consultation:{conv['_id']}")
            await self._events.emit("consultation.opened", {"conv": conv["_id"], "resident_id": resident["_id"],
                                                            "doctor_id": conv["doctor"]["id"]})
        return conv, created

    async def _open(self, resident: dict[str, Any], doctor_id: Any) -> tuple[dict[str, Any], bool]:
        require_role(resident, "resident")
        if not isinstance(doctor_id, str) or not doctor_id:
            raise InvalidInput("doctor_id 必须是字符串", field="doctor_id")
        doctor = await self._users.find_one({"_id": doctor_id})
        if doctor is None or doctor["role"] not in CONSULTING_STAFF:
            raise NotFound("医生不存在", doctor_id=doctor_id)
        if not await self._may_consult(resident, doctor):
            raise Forbidden("未与该医生所在团队签约，不能发起咨询", doctor_id=doctor_id)
        open_key = f"{resident['_id']}:{doctor_id}"
        existing = await self._convs.find_one({"open_key": open_key})
        if existing:
            return existing, False
        conv = {"_id": new_id(), "kind": "consultation", "status": "open", "open_key": open_key,
                "resident": public_user(resident), "doctor": public_user(doctor),
                "participants": [resident["_id"], doctor_id], "region": resident.get("region", ""),
                "created_at": now(), "last_seq": 0, "last_message": None, "read": {}}
        try:
            await self._convs.insert_one(conv)
        except DuplicateKeyError:  # opened at the same moment elsewhere: that one wins
            existing = await self._convs.find_one({"open_key": open_key})
            if existing is None:
                raise
            return existing, False
        return conv, True

    async def doctors_for(self, resident: dict[str, Any]) -> list[dict[str, Any]]:
        """The doctors a resident may consult (我的家庭医生), in the order the plugins list them.

        A candidate the plugins list is kept only when ``open`` would accept it (consulting staff that
        ``may_consult`` allows), so the list and ``can_consult`` never disagree; disabled accounts are left out.
        """
        require_role(resident, "resident")
        ids = await self._list_doctors(resident)
        if not ids:
            return []
        found = {u["_id"]: u async for u in self._users.find(
            {"_id": {"$in": ids}, "role": {"$in": sorted(CONSULTING_STAFF)}, "disabled": {"$ne": True}})}
        candidates = [found[i] for i in ids if i in found]
        allowed = await asyncio.gather(*(self._may_consult(resident, doctor) for doctor in candidates))
        return [doctor for doctor, ok in zip(candidates, allowed, strict=True) if ok]

    async def end(self, ctx: RequestContext, conv_id: Any) -> dict[str, Any]:
        """The doctor ends a consultation; it takes no more messages. Every process forgets its cached copy,
        everyone in it gets a ``conv`` frame, and the end is audited."""
        user = ctx.actor or {}
        ended = await self._end(user, conv_id)
        await self._announce(ended["_id"])
        await self._publish(ended["participants"], {"type": "conv", "conv": ended["_id"], "status": "ended",
                                                    "by": user["_id"]})
        await self._audit.record(actor=user, action="consultation.end", target=ended["_id"], address=ctx.address,
                                 details={})
        return ended

    async def _end(self, user: dict[str, Any], conv_id: Any) -> dict[str, Any]:
        conv = await self.get_for(user, conv_id)
        if user["_id"] != conv["doctor"]["id"]:
            raise Forbidden("只有医生可以结束咨询")
        if conv["status"] != "open":
            raise ConversationClosed(conv=conv["_id"])
        ended = {"status": "ended", "open_key": f"ended:{conv['_id']}", "ended_at": now(), "ended_by": user["_id"]}
        await self._convs.update_one({"_id": conv["_id"], "status": "open"}, {"$set": ended})
        self.forget(conv["_id"])
        return {**conv, **ended}

    async def list_for(self, user: dict[str, Any], *, status: str | None, limit: int,
                       cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        if status not in (None, "", "open", "ended"):
            raise InvalidInput("status 只能是 open 或 ended", field="status")
        query: dict[str, Any] = {"participants": user["_id"]}
        if status:
            query["status"] = status
        return await page(self._convs, query, limit=limit, cursor=cursor)

    async def full(self, conv_id: str) -> dict[str, Any]:
        """The stored document with its summary fields (not cached)."""
        conv = await self._convs.find_one({"_id": conv_id})
        if conv is None:
            raise NotFound("会话不存在", conv=conv_id)
        return conv


def render_conversation(conv: dict[str, Any], viewer_id: str) -> dict[str, Any]:
    """A conversation as the API shows it to one participant, with their unread count."""
    last_seq = conv.get("last_seq", 0)
    marks = conv.get("read") or {}
    read = marks.get(viewer_id, 0)
    peer_read = max((seq for user_id, seq in marks.items() if user_id != viewer_id), default=0)
    last = conv.get("last_message")
    return {
        "id": conv["_id"], "status": conv["status"], "resident": conv["resident"], "doctor": conv["doctor"],
        "created_at": iso(conv["created_at"]), "ended_at": iso(conv.get("ended_at")),
        "last_seq": last_seq, "unread": max(0, last_seq - read), "read_seq": read,
        "peer_read_seq": peer_read,
        "last_message": ({**last, "ts": iso(last["ts"])} if last else None),
    }
