"""Service requests (申请服务, ``services_requests``): a signed resident — through the account managing them —
asks for an item of their package with a preferred time and a note; the resident's team accepts, schedules,
completes or declines it (with a reason); the account may cancel it while it is open.

Steps (``STEPS``): pending → accepted | scheduled | declined | cancelled; accepted → scheduled | completed |
declined | cancelled; scheduled → scheduled (a new time) | completed | declined | cancelled. Each step is a
compare-and-set on the state, audited, kept in the request's ``history`` and published
(``service.requested``, ``service.request_changed``); the notices both ways follow from those events
(``notices``)."""

from __future__ import annotations

from typing import Any

from hub import Conflict, Forbidden, InvalidInput, NotFound, RequestContext
from hub.ids import iso, new_id, now, parse_time
from hub.roster.scopes import TEAM_ROLES, scope_filter
from plugins.services.records import SIGNED_STATES, NotSigned, package_of

TEAM_STEPS = {"accept": ("accepted", ("pending",)),
              "schedule": ("scheduled", ("pending", "accepted", "scheduled")),
              "complete": ("completed", ("accepted", "scheduled")),
              "decline": ("declined", ("pending", "accepted", "scheduled"))}
OWNER_STEPS = {"cancel": ("cancelled", ("pending", "accepted", "scheduled"))}
STEPS = {**TEAM_STEPS, **OWNER_STEPS}
OPEN = ("pending", "accepted", "scheduled")


class WrongState(Conflict):
    code, message = "wrong_state", "该申请当前状态不能执行此操作"


def render_request(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "resident_id": doc["resident_id"], "resident_name": doc.get("resident_name"),
            "team_id": doc["team_id"], "item": doc["item"], "preferred_at": iso(doc.get("preferred_at")),
            "note": doc.get("note", ""), "status": doc["status"], "scheduled_at": iso(doc.get("scheduled_at")),
            "reason": doc.get("reason"), "record_id": doc.get("record_id"), "created_at": iso(doc["created_at"]),
            "updated_at": iso(doc["updated_at"]),
            "history": [{"status": h["status"], "by": h["by"], "at": iso(h["at"]), "note": h.get("note", "")}
                        for h in doc.get("history", [])]}


def payload(doc: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": doc["_id"], "resident_id": doc["resident_id"], "team_id": doc["team_id"],
            "item": doc["item"], "status": doc["status"]}


class Requests:
    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.db = hub.db

    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        user = ctx.person
        if user["role"] != "resident":
            raise Forbidden("只有居民账号可以申请服务", reason="role")
        resident = await self.hub.roster.residents.get(body["resident_id"])
        if resident.get("account_id") != user["_id"]:
            raise Forbidden("只能为本家庭成员申请服务", resident_id=resident["_id"], reason="not_family")
        if resident.get("status") not in SIGNED_STATES or not resident.get("team_id"):
            raise NotSigned(resident_id=resident["_id"])
        package = await package_of(self.hub, resident)
        names = [i["name"] for i in (package or {}).get("items", [])]
        if body["item"] not in names:
            raise InvalidInput("服务项目不在您的服务包中", field="item", reason="not_in_package", items=names)
        preferred = parse_time(body["preferred_at"]) if body.get("preferred_at") else None
        if preferred is not None and preferred < now():
            raise InvalidInput("期望时间不能早于现在", field="preferred_at", reason="past")
        moment = now()
        doc = {"_id": new_id(), "resident_id": resident["_id"], "resident_name": resident.get("name"),
               "account_id": user["_id"], "team_id": resident["team_id"],
               "institution_id": resident.get("institution_id"), "region": resident.get("region", ""),
               "package_id": (package or {}).get("_id"), "item": body["item"], "preferred_at": preferred,
               "note": body.get("note", ""), "status": "pending", "scheduled_at": None, "reason": None,
               "record_id": None, "created_at": moment, "updated_at": moment,
               "history": [{"status": "pending", "by": user["_id"], "at": moment, "note": body.get("note", "")}]}
        await self.db.services_requests.insert_one(doc)
        await self.hub.audit.record(actor=user, action="services.request", target=doc["_id"], address=ctx.address,
                                    region=doc["region"], details={"resident_id": resident["_id"],
                                                                   "item": doc["item"]})
        await self.hub.events.emit("service.requested", payload(doc), dedupe=f"service.requested:{doc['_id']}")
        return doc

    def filter_for(self, user: dict[str, Any]) -> dict[str, Any]:
        """Staff by scope (the team's, the institution's, the region's); a resident account its own requests."""
        found = scope_filter(user)
        return {"account_id": user["_id"]} if found is None else found

    async def visible(self, user: dict[str, Any], request_id: str) -> dict[str, Any]:
        doc = await self.db.services_requests.find_one({"$and": [{"_id": request_id}, self.filter_for(user)]})
        if doc is None:
            raise NotFound("服务申请不存在", id=request_id)
        return doc

    @staticmethod
    def require_stepper(user: dict[str, Any], request: dict[str, Any], step: str) -> None:
        """Before the body is read: the team's staff take the team's steps, the asking account cancels."""
        if step in TEAM_STEPS:
            if user["role"] not in TEAM_ROLES or user.get("team_id") != request["team_id"]:
                raise Forbidden("只有本团队的医生或助理可以处理服务申请", request_id=request["_id"])
        elif request["account_id"] != user["_id"]:
            raise Forbidden("只能取消自己的服务申请", request_id=request["_id"])

    async def step(self, ctx: RequestContext, request: dict[str, Any], step: str, body: dict[str, Any]
                   ) -> dict[str, Any]:
        user = ctx.person
        target, sources = STEPS[step]
        self.require_stepper(user, request, step)
        changes: dict[str, Any] = {"status": target, "updated_at": now()}
        note = body.get("note") or body.get("reason") or ""
        if step == "schedule":
            changes["scheduled_at"] = parse_time(body["scheduled_at"])
        if step == "decline":
            changes["reason"] = body["reason"]
        if step == "complete" and body.get("record_id"):
            record = await self.db.services_records.find_one({"_id": body["record_id"],
                                                              "resident_id": request["resident_id"]}, {"_id": 1})
            if record is None:
                raise InvalidInput("服务记录不存在或不属于该居民", field="record_id", reason="unknown_record")
            changes["record_id"] = body["record_id"]
        entry = {"status": target, "by": user["_id"], "at": changes["updated_at"], "note": note}
        updated = await self.db.services_requests.find_one_and_update(
            {"_id": request["_id"], "status": {"$in": list(sources)}},
            {"$set": changes, "$push": {"history": entry}}, return_document=True)
        if updated is None:
            raise WrongState(request_id=request["_id"], status=request["status"], step=step)
        await self.hub.audit.record(actor=user, action=f"services.request_{step}", target=request["_id"],
                                    address=ctx.address, region=request.get("region", ""),
                                    details={"resident_id": request["resident_id"], "status": target})
        await self.hub.events.emit("service.request_changed", payload(updated),
                                   dedupe=f"service.request_changed:{request['_id']}:{len(updated['history'])}")
        return updated
