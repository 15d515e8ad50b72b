"""Service records (履约记录, ``services_records``): a service act a doctor or assistant of the resident's team
records for a signed resident — type, package item, time, place, content, and for a follow-up the form of the
population. The author may edit a record for ``services.edit_window_mins`` after recording it; afterwards it
changes only by correction entries (``corrections``: who, when, why and what), the original staying as it was.

Every write of a resident's records and the re-planning it causes run under the resident's lock
(``plans.resident_lock``), and are audited and published (``service.recorded``, ``service.corrected``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hub import Conflict, Forbidden, InvalidInput, NotFound, RequestContext
from hub.ids import iso, new_id, now, parse_time
from hub.roster.scopes import TEAM_ROLES, can_see_resident, scope_filter
from plugins.services.catalogue import FOLLOWUP_TYPES
from plugins.services.followups import populations_on
from plugins.services.forms import check_form
from plugins.services.plans import Plans, effective, resident_lock, today_cst

SIGNED_STATES = ("signed", "to_renew")
CLOCK_SKEW = timedelta(minutes=10)  # a phone's clock ahead of the server's; later than this is in the future
EDITABLE = ("item", "at", "place", "content", "followup")


class NotSigned(Conflict):
    code, message = "not_signed", "该居民尚未签约，不能记录或申请服务"


class EditWindowClosed(Conflict):
    code, message = "edit_window_closed", "已超过可修改时间，请添加更正记录"


class HasCorrections(Conflict):
    code, message = "has_corrections", "该记录已有更正记录，请继续添加更正记录"


def require_team_staff(user: dict[str, Any], resident: dict[str, Any]) -> None:
    """A doctor, assistant or team leader of the team holding the signed resident. Staff who cannot see the
    resident get 403; a resident in view but not signed with the user's team, 409 ``not_signed``."""
    if user["role"] not in TEAM_ROLES or not can_see_resident(user, resident):
        raise Forbidden("该居民不在您的管辖范围内", resident_id=resident["_id"])
    if resident.get("status") not in SIGNED_STATES or resident.get("team_id") != user.get("team_id"):
        raise NotSigned(resident_id=resident["_id"])


def record_filter(user: dict[str, Any], family: list[str] | None = None) -> dict[str, Any]:
    """The records a user may read: staff by scope (team, institution, region), a resident account its
    family's (``family``: the ids of the records it manages)."""
    found = scope_filter(user)
    return {"resident_id": {"$in": family or []}} if found is None else found


def render_record(doc: dict[str, Any]) -> dict[str, Any]:
    current = effective(doc)
    return {"id": doc["_id"], "resident_id": doc["resident_id"], "team_id": doc["team_id"], "type": doc["type"],
            "population": doc.get("population"), "author_id": doc["author_id"], "author_name": doc.get("author_name"),
            "item": current["item"], "at": iso(current["at"]), "place": current["place"],
            "content": current["content"], "followup": current["followup"],
            "original": {k: (iso(doc[k]) if k == "at" else doc.get(k)) for k in EDITABLE},
            "corrections": [{"id": c["id"], "by": c["by"], "by_name": c.get("by_name"), "at": iso(c["at"]),
                             "reason": c["reason"],
                             "changes": {k: (iso(v) if k == "at" else v) for k, v in c["changes"].items()}}
                            for c in doc.get("corrections", [])],
            "created_at": iso(doc["created_at"]), "updated_at": iso(doc["updated_at"]),
            "editable_until": iso(doc["editable_until"])}


def _payload(doc: dict[str, Any]) -> dict[str, Any]:
    current = effective(doc)
    return {"record_id": doc["_id"], "resident_id": doc["resident_id"], "team_id": doc["team_id"],
            "institution_id": doc.get("institution_id"), "region": doc.get("region", ""), "type": doc["type"],
            "item": current["item"], "population": doc.get("population"), "at": iso(current["at"])}


class Records:
    def __init__(self, hub: Any, plans: Plans) -> None:
        self.hub = hub
        self.db = hub.db
        self.plans = plans

    # -- checks ------------------------------------------------------------------------------------------------

    async def resident(self, resident_id: str) -> dict[str, Any]:
        return await self.hub.roster.residents.get(resident_id)

    def _when(self, text: str, field: str = "at") -> datetime:
        moment = parse_time(text)
        if moment > now() + CLOCK_SKEW:
            raise InvalidInput("服务时间不能晚于现在", field=field, reason="future")
        return moment

    async def _check_item(self, resident: dict[str, Any], item: str | None) -> str:
        """An item, when given, must be one of the resident's package (``Packages``)."""
        if not item:
            return ""
        package = await package_of(self.hub, resident)
        if package is not None and item not in [i["name"] for i in package.get("items", [])]:
            raise InvalidInput("服务项目不在该居民的服务包中", field="item", reason="not_in_package")
        return item

    def _check_form(self, resident: dict[str, Any], record_type: str, population: str | None,
                    form: dict[str, Any] | None) -> dict[str, Any] | None:
        if population is None:
            if form is not None:
                raise InvalidInput("随访表须指明人群", field="population", reason="required")
            if record_type == "定期随访":
                raise InvalidInput("定期随访须指明人群", field="population", reason="required")
            return None
        if record_type not in FOLLOWUP_TYPES:
            raise InvalidInput(f"{record_type}不是随访类服务", field="type", reason="not_a_followup")
        birth = resident.get("birth_date")
        current = populations_on(resident.get("key_populations", []), date.fromisoformat(birth) if birth else None,
                                 today_cst())
        if population not in current:
            raise InvalidInput("该居民不属于此人群", field="population", reason="not_in_population")
        return check_form(population, form or {})

    # -- writes -----------------------------------------------------------------------------------------------

    async def record(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        user = ctx.person
        resident = await self.resident(body["resident_id"])
        require_team_staff(user, resident)
        at = self._when(body["at"])
        form = self._check_form(resident, body["type"], body.get("population"), body.get("followup"))
        item = await self._check_item(resident, body.get("item"))
        moment = now()
        doc = {"_id": new_id(), "resident_id": resident["_id"], "account_id": resident.get("account_id"),
               "team_id": resident["team_id"], "institution_id": resident.get("institution_id"),
               "region": resident.get("region", ""), "author_id": user["_id"], "author_name": user.get("name"),
               "type": body["type"], "population": body.get("population"), "item": item, "at": at,
               "place": body.get("place", ""), "content": body["content"], "followup": form, "corrections": [],
               "created_at": moment, "updated_at": moment,
               "editable_until": moment + timedelta(minutes=self.hub.config["services.edit_window_mins"])}
        async with resident_lock(self.hub, resident["_id"]):
            await self.db.services_records.insert_one(doc)
            if self.plans.touches_plan(doc):
                await self.plans.replan(resident)
        await self.hub.audit.record(actor=user, action="services.record", target=doc["_id"], address=ctx.address,
                                    region=doc["region"], details={"resident_id": resident["_id"],
                                                                   "type": doc["type"],
                                                                   "population": doc["population"]})
        await self.hub.events.emit("service.recorded", _payload(doc), dedupe=f"service.recorded:{doc['_id']}")
        return doc

    async def visible(self, user: dict[str, Any], record_id: str) -> dict[str, Any]:
        """A record the user may read; 404 otherwise, as for an unknown id (record ids follow each other)."""
        family = await self.family_of(user)
        doc = await self.db.services_records.find_one({"$and": [{"_id": record_id}, record_filter(user, family)]})
        if doc is None:
            raise NotFound("服务记录不存在", id=record_id)
        return doc

    async def family_of(self, user: dict[str, Any]) -> list[str] | None:
        if user["role"] != "resident":
            return None
        return [r["_id"] for r in await self.hub.roster.residents.managed_by(user["_id"])]

    async def _changes(self, resident: dict[str, Any], record: dict[str, Any], body: dict[str, Any]
                       ) -> dict[str, Any]:
        changes = {k: body[k] for k in EDITABLE if k in body}
        if not changes:
            raise InvalidInput("没有要修改的内容", reason="empty")
        if "at" in changes:
            changes["at"] = self._when(changes["at"])
        if "item" in changes:
            changes["item"] = await self._check_item(resident, changes["item"])
        if "followup" in changes:
            changes["followup"] = self._check_form(resident, record["type"], record.get("population"),
                                                   changes["followup"])
        return changes

    @staticmethod
    def require_editable(user: dict[str, Any], record: dict[str, Any]) -> None:
        """Before the body is read: the author, within the window, of a record not corrected yet."""
        if record["author_id"] != user["_id"]:
            raise Forbidden("只有记录人可以修改服务记录", record_id=record["_id"])
        if now() > record["editable_until"]:
            raise EditWindowClosed(record_id=record["_id"], editable_until=iso(record["editable_until"]))
        if record.get("corrections"):
            raise HasCorrections(record_id=record["_id"])

    @staticmethod
    def require_corrector(user: dict[str, Any], record: dict[str, Any]) -> None:
        if user["role"] not in TEAM_ROLES or user.get("team_id") != record["team_id"]:
            raise Forbidden("只有本团队的医生或助理可以更正服务记录", record_id=record["_id"])

    async def edit(self, ctx: RequestContext, record: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """The author changes the record in place, within the edit window."""
        user = ctx.person
        self.require_editable(user, record)
        resident = await self.resident(record["resident_id"])
        changes = await self._changes(resident, record, body)
        async with resident_lock(self.hub, resident["_id"]):
            updated = await self.db.services_records.find_one_and_update(
                {"_id": record["_id"], "editable_until": {"$gte": now()}, "corrections": []},
                {"$set": {**changes, "updated_at": now()}}, return_document=True)
            if updated is None:
                raise EditWindowClosed(record_id=record["_id"], editable_until=iso(record["editable_until"]))
            if self.plans.touches_plan(updated):
                await self.plans.replan(resident)
        await self.hub.audit.record(actor=user, action="services.record_edit", target=record["_id"],
                                    address=ctx.address, region=record.get("region", ""),
                                    details={"resident_id": record["resident_id"], "fields": sorted(changes)})
        return updated

    async def correct(self, ctx: RequestContext, record: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """A correction entry by staff of the resident's team: the original stays, the entry says what changed."""
        user = ctx.person
        resident = await self.resident(record["resident_id"])
        self.require_corrector(user, record)
        changes = await self._changes(resident, record, {k: v for k, v in body.items() if k != "reason"})
        correction = {"id": new_id(), "by": user["_id"], "by_name": user.get("name"), "at": now(),
                      "reason": body["reason"], "changes": changes}
        async with resident_lock(self.hub, resident["_id"]):
            updated = await self.db.services_records.find_one_and_update(
                {"_id": record["_id"]}, {"$push": {"corrections": correction}, "$set": {"updated_at": now()}},
                return_document=True)
            if self.plans.touches_plan(updated):
                await self.plans.replan(resident)
        await self.hub.audit.record(actor=user, action="services.record_correct", target=record["_id"],
                                    address=ctx.address, region=record.get("region", ""),
                                    details={"resident_id": record["resident_id"], "correction_id": correction["id"],
                                             "fields": sorted(changes)})
        await self.hub.events.emit("service.corrected", {**_payload(updated), "correction_id": correction["id"]},
                                   dedupe=f"service.corrected:{correction['id']}")
        return updated

    # -- reads ------------------------------------------------------------------------------------------------

    async def query_for(self, user: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        family = await self.family_of(user)
        clauses = [record_filter(user, family)]
        if args.get("resident_id"):
            if family is not None and args["resident_id"] not in family:
                raise Forbidden("只能查看本家庭成员的服务记录", resident_id=args["resident_id"])
            clauses.append({"resident_id": args["resident_id"]})
        for name in ("population", "type"):
            if args.get(name):
                clauses.append({name: args[name]})
        return {"$and": clauses}

    async def done_by_item(self, resident_id: str, begin: datetime, end: datetime) -> dict[str, int]:
        """How many records of each package item a resident had in ``[begin, end)`` (as corrected)."""
        counts: dict[str, int] = {}
        async for doc in self.db.services_records.find({"resident_id": resident_id}):
            current = effective(doc)
            if current["item"] and begin <= current["at"] < end:
                counts[current["item"]] = counts.get(current["item"], 0) + 1
        return counts


async def signing_of(hub: Any, resident: dict[str, Any]) -> dict[str, Any] | None:
    """The resident's signing in force today, through the signing plugin's service (this plugin requires it)."""
    from plugins.signing import signings
    found = await signings.service(hub).in_force_for([resident["_id"]])
    return found[0] if found else None


async def package_of(hub: Any, resident: dict[str, Any]) -> dict[str, Any] | None:
    signing = await signing_of(hub, resident)
    if signing is None:
        return None
    try:
        return await hub.roster.packages.get(signing.get("package_id"))
    except NotFound:
        return None
