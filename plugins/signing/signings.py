"""The signing rules (签约规则), all of them here, whatever the mode (application, entry, pick, import, renewal):

1. One signing per resident at a time: a pending application or an active signing holds the resident's
   ``active_key`` (= the resident id) under a unique index; closing it (rejected, cancelled, terminated, expired)
   sets the key to the signing's own id. A second signing within a valid period — also two doctors at the same
   moment — hits the index and gets ``already_signed``.
2. A term is whole years, 1 to ``signing.max_term_years`` (3); the standard package and its term fill in.
3. Auto-renewal by default: the scheduled job renews a signing in place at expiry, or lets it expire when
   auto-renewal is off; ``signing.renewal_notice_days`` before the end the resident becomes 待续签.
4. A resident approved as unable to sign (无法签约) cannot be signed; approval closes their signing. A supervisor
   of the resident's region may lift it (撤销, with a reason): the status is derived again and signing is open.
5. The resident status class is derived by ``derive_status`` from the signing records and the unable flag, and
   stored on the resident by ``refresh_status`` after every change, so lists, filters and counts agree.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub import SYSTEM, Conflict, Forbidden, InvalidInput, NotFound, RequestContext, get_by_id
from hub.ids import iso, new_id, now
from hub.pages import page
from hub.roster.idcard import mask_id_number, normalise_id_number
from hub.roster.packages import check_term
from hub.roster.residents import new_resident
from hub.roster.scopes import can_see_resident
from plugins.signing import locks, scopes

log = logging.getLogger(__name__)

HOLDING = ("pending", "active")  # the states that hold a resident's active_key
CLOSED = ("rejected", "cancelled", "terminated", "expired", "refused")
STATES = (*HOLDING, *CLOSED)
MODES = ("apply", "entry", "pick", "import", "seed")
UNABLE_KINDS = ("服刑", "死亡", "外迁", "失联", "其他")
UNABLE_STATES = ("pending", "approved", "rejected", "lifted")
REVIEW_TABS = ("pending", "approved", "rejected")  # the review center's tabs (``list_filter``'s words)
JOB_BATCH = 500


class AlreadySigned(Conflict):
    code, message = "already_signed", "该居民已有有效签约或待审核的申请"


class UnableToSign(Conflict):
    code, message = "unable_to_sign", "该居民已登记为无法签约"


class WrongState(Conflict):
    code, message = "invalid_state", "当前状态不允许此操作"


class NameMismatch(Conflict):
    code, message = "name_mismatch", "姓名与该身份证号的居民档案不一致"


class AlreadyRefused(Conflict):
    code, message = "already_refused", "该居民已记录拒签，不能重复记录"


# -- pure rules ------------------------------------------------------------------------------------------------

def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def derive_status(*, unable: bool, active_end: datetime | None, last_closed: str | None, moment: datetime,
                  notice_days: int) -> str:
    """The resident status class: unable, signed, to_renew (待续签), refused or unsigned."""
    if unable:
        return "unable"
    if active_end is not None:
        return "to_renew" if active_end - timedelta(days=notice_days) <= moment else "signed"
    return "refused" if last_closed == "refused" else "unsigned"


# -- records -----------------------------------------------------------------------------------------------

def required_id(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field} 必填", field=field)
    return value


def new_signing(resident: dict[str, Any], *, team: dict[str, Any], doctor: dict[str, Any], mode: str, status: str,
                created_by: str, package: dict[str, Any] | None = None, term_years: int | None = None,
                auto_renew: bool = True, start: datetime | None = None, reason: str | None = None,
                moment: datetime | None = None, signing_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """The one constructor of a signing record, for every mode, the import and the demo: a holding state
    (pending, active) takes the resident's ``active_key``, a closed one its own id; the end follows from the
    start and the term."""
    moment = moment or now()
    signing_id = signing_id or new_id()
    return {
        "_id": signing_id, "resident_id": resident["_id"], "resident_name": resident["name"],
        "id_number": resident.get("id_number"), "account_id": resident.get("account_id"),
        "region": resident.get("region", ""), "team_id": team["_id"], "team_name": team["name"],
        "institution_id": team.get("institution_id"), "doctor_id": doctor["_id"], "doctor_name": doctor["name"],
        "package_id": package["_id"] if package else None, "package_name": package["name"] if package else None,
        "mode": mode, "status": status, "term_years": term_years, "auto_renew": auto_renew, "start": start,
        "end": add_years(start, term_years) if start and term_years else None, "terms": [],
        "active_key": resident["_id"] if status in HOLDING else signing_id, "created_by": created_by,
        "created_at": moment, "updated_at": moment, "reviewed_by": None, "reviewed_at": None, "reason": reason,
        "expiring_notified": False, **extra}


def event_payload(signing: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What subscribers get: ids, places and times, never names or numbers of people."""
    return {"signing_id": signing["_id"], "resident_id": signing["resident_id"], "team_id": signing["team_id"],
            "institution_id": signing["institution_id"], "doctor_id": signing["doctor_id"],
            "region": signing["region"], "mode": signing["mode"], "status": signing["status"],
            "start": iso(signing.get("start")), "end": iso(signing.get("end")), **extra}


# -- the one rule path of signing (every mode: apply, entry, pick, import) -----------------------------------

STAFF_MODES = ("entry", "pick", "import")


def same_name(a: str, b: str) -> bool:
    """Names compared as a person reads them: NFKC, inner spaces ignored."""
    def plain(name: str) -> str:
        return "".join(unicodedata.normalize("NFKC", name or "").split())
    return plain(a) == plain(b)


def check_signable(actor: dict[str, Any], resident: dict[str, Any], *, holder: dict[str, Any] | None,
                   team: dict[str, Any], doctor: dict[str, Any], given_name: str | None = None) -> None:
    """Raise the error that refuses signing ``resident`` with ``team`` and ``doctor``, for every mode and the
    import alike; ``resident`` is read under its lease (or is the record about to be created). The actor must be
    able to see the resident — a doctor: held by their team, or held by none and living in their service area —
    so nobody signs outside their area or takes over another team's resident. ``given_name`` is the name the
    request or row typed for an ID number the roster already holds: a different name is a different person."""
    if resident.get("unable"):
        raise UnableToSign(resident_id=resident["_id"], kind=resident["unable"].get("kind"))
    if doctor["_id"] not in team.get("members", []):
        raise InvalidInput("医生不是该团队成员", field="doctor_id")
    if not can_see_resident(actor, resident):
        raise Forbidden("该居民不在您的服务范围内", resident_id=resident["_id"], reason="out_of_area")
    if given_name is not None and not same_name(given_name, resident.get("name", "")):
        raise NameMismatch(resident_id=resident["_id"])
    if holder is not None:
        raise AlreadySigned(resident_id=resident["_id"], signing_id=holder["_id"], signing_status=holder["status"])


# -- transitions (each under the resident's lease) -----------------------------------------------------------

def renewable_from(end: datetime, notice_days: int) -> datetime:
    """The renewal window opens ``renewal_notice_days`` before a term ends (when the resident becomes 待续签)."""
    return end - timedelta(days=notice_days)


# -- in force -------------------------------------------------------------------------------------------------

def in_force(moment: datetime) -> dict[str, Any]:
    """The filter of signings in force at ``moment``: active, not ended, and started — the current term, or an
    earlier term of the same signing (an early renewal's new term starts at the old end, and the old term kept in
    ``terms`` covers the time until then, so a resident keeps their doctor through a renewal)."""
    return {"status": "active", "end": {"$gt": moment},
            "$or": [{"start": {"$lte": moment}}, {"terms.start": {"$lte": moment}}]}


# -- the scheduled job -------------------------------------------------------------------------------------

# -- unable to sign (无法签约) -----------------------------------------------------------------------------

def unable_payload(doc: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": doc["_id"], "resident_id": doc["resident_id"], "region": doc["region"],
            "team_id": doc["team_id"], "kind": doc["kind"], "status": doc["status"]}


# -- the review center ---------------------------------------------------------------------------------------

def list_filter(user: dict[str, Any], args: dict[str, str]) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [scopes.signing_filter(user)]
    if args.get("status"):
        wanted = args["status"].split(",")
        if not set(wanted) <= {*STATES, "approved"}:
            raise InvalidInput(f"status 应为 {' / '.join((*STATES, 'approved'))}", field="status")
        # "approved" is the review center's word for an application a doctor let through (whatever came after)
        either: list[dict[str, Any]] = [{"status": {"$in": [s for s in wanted if s != "approved"]}}]
        if "approved" in wanted:
            either.append({"mode": "apply", "reviewed_by": {"$ne": None}, "status": {"$ne": "rejected"}})
        clauses.append({"$or": either})
    for field in ("doctor_id", "team_id", "mode", "resident_id"):
        if args.get(field):
            clauses.append({field: args[field]})
    if args.get("id_number"):
        clauses.append({"id_number": normalise_id_number(args["id_number"])})
    if args.get("name"):
        clauses.append({"resident_name": {"$regex": re.escape(args["name"].strip()[:30])}})
    clauses = [c for c in clauses if c]
    return {"$and": clauses} if len(clauses) > 1 else (clauses[0] if clauses else {})


def render_signing(doc: dict[str, Any], *, whole: bool = False) -> dict[str, Any]:
    return {
        "id": doc["_id"], "resident_id": doc["resident_id"], "resident_name": doc["resident_name"],
        "id_number": doc.get("id_number") if whole else mask_id_number(doc.get("id_number")),
        "team_id": doc["team_id"], "team_name": doc.get("team_name"), "institution_id": doc.get("institution_id"),
        "doctor_id": doc["doctor_id"], "doctor_name": doc.get("doctor_name"), "package_id": doc.get("package_id"),
        "package_name": doc.get("package_name"), "mode": doc["mode"], "status": doc["status"],
        "term_years": doc.get("term_years"), "auto_renew": doc.get("auto_renew"), "start": iso(doc.get("start")),
        "end": iso(doc.get("end")), "reason": doc.get("reason"), "created_at": iso(doc["created_at"]),
        "reviewed_at": iso(doc.get("reviewed_at")), "renewals": len(doc.get("terms", [])),
    }


def render_unable(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "resident_id": doc["resident_id"], "resident_name": doc["resident_name"],
            "id_number": mask_id_number(doc.get("id_number")), "region": doc["region"], "team_id": doc["team_id"],
            "kind": doc["kind"], "reason": doc["reason"], "status": doc["status"],
            "requested_by": doc["requested_by"], "requested_by_name": doc["requested_by_name"],
            "created_at": iso(doc["created_at"]), "reviewed_by": doc["reviewed_by"],
            "reviewed_at": iso(doc.get("reviewed_at")), "note": doc.get("note"),
            "lifted_by": doc.get("lifted_by"), "lifted_at": iso(doc.get("lifted_at")),
            "lift_reason": doc.get("lift_reason")}


class Signings:
    """The signing workflow, built once per hub (``service(hub)``): every state change of a signing or an
    unable-to-sign request goes through one of its methods, under the resident's lease, audited and published."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.db = hub.db
        self.roster = hub.roster

    def settings(self) -> tuple[int, int]:
        return self.hub.config["signing.max_term_years"], self.hub.config["signing.renewal_notice_days"]

    async def get_signing(self, signing_id: str) -> dict[str, Any]:
        return await get_by_id(self.db.signings, signing_id, "签约不存在")

    async def refresh_status(self, resident_id: str) -> str:
        """Derive the resident's status from their records and store it with the holding signing's team."""
        resident = await self.hub.roster.residents.find(resident_id, {"unable": 1})
        if resident is None:
            return "unsigned"
        holder = await self.db.signings.find_one({"resident_id": resident_id, "status": {"$in": list(HOLDING)}})
        last = await self.db.signings.find({"resident_id": resident_id, "status": {"$in": list(CLOSED)}}
                                      ).sort("_id", -1).limit(1).to_list()
        active = holder if holder and holder["status"] == "active" else None
        status = derive_status(unable=bool(resident.get("unable")), active_end=active["end"] if active else None,
                               last_closed=last[0]["status"] if last else None, moment=now(),
                               notice_days=self.settings()[1])
        await self.hub.roster.residents.set_state(resident_id, {
            "status": status, "team_id": holder["team_id"] if holder else None,
            "institution_id": holder["institution_id"] if holder else None,
            "doctor_id": holder["doctor_id"] if holder else None, "signing_id": active["_id"] if active else None,
            "signing_end": active["end"] if active else None})
        return status

    async def _record(self, actor: dict[str, Any] | None, action: str, signing: dict[str, Any], address: str,
                      **details: Any) -> None:
        await self.hub.audit.record(actor=actor, action=action, target=signing["_id"], address=address,
                               region=signing.get("region", ""),
                                    details={"resident_id": signing["resident_id"], "team_id": signing["team_id"],
                                             **details})

    async def _tag_populations(self, resident: dict[str, Any]) -> None:
        names = [*resident.get("key_populations", []), *resident.get("chronic_diseases", [])]
        await self.hub.roster.residents.add_tag_names(resident["_id"], names)

    async def _fresh_resident(self, resident_id: str) -> dict[str, Any]:
        return await self.hub.roster.residents.get(resident_id)

    async def open_signing(self, ctx: RequestContext, resident: dict[str, Any], *, team: dict[str, Any],
                           doctor: dict[str, Any], mode: str, pending: bool = False, term_years: int | None = None,
                           package_id: str | None = None, auto_renew: bool = True, start: datetime | None = None,
                           given_name: str | None = None) -> dict[str, Any]:
        """Sign a resident with a team (active at once), or file a resident's application (pending)."""
        actor, address = ctx.person, ctx.address
        max_term, _ = self.settings()
        if resident.get("unable"):
            raise UnableToSign(resident_id=resident["_id"], kind=resident["unable"].get("kind"))
        if doctor["_id"] not in team.get("members", []):
            raise InvalidInput("医生不是该团队成员", field="doctor_id")
        package = await self.hub.roster.packages.get(package_id)
        term = check_term(term_years if term_years is not None else package["term_years"], max_term)
        if not isinstance(auto_renew, bool):
            raise InvalidInput("auto_renew 应为 true 或 false", field="auto_renew")
        async with locks.resident_lock(self.hub, resident["_id"]):
            resident = await self._fresh_resident(resident["_id"])
            holder = await self.db.signings.find_one({"active_key": resident["_id"]}, {"status": 1})
            check_signable(actor, resident, holder=holder, team=team, doctor=doctor, given_name=given_name)
            moment = now()
            begin = None if pending else (start or moment)
            signing = new_signing(resident, team=team, doctor=doctor, mode=mode,
                                  status="pending" if pending else "active", created_by=actor["_id"],
                                  package=package, term_years=term, auto_renew=auto_renew, start=begin,
                                  moment=moment)
            if signing["end"] is not None and signing["end"] <= moment:
                raise InvalidInput("签约已过期", field="start")
            try:  # the unique index stays the last word, should a writer ever skip the lease
                await self.db.signings.insert_one(signing)
            except DuplicateKeyError:
                holder = await self.db.signings.find_one({"active_key": resident["_id"]}, {"status": 1})
                raise AlreadySigned(resident_id=resident["_id"], signing_id=holder["_id"] if holder else None,
                                    signing_status=holder["status"] if holder else None) from None
            await self.refresh_status(resident["_id"])
        if not pending:
            await self._tag_populations(resident)
        await self._record(actor, "signing.apply" if pending else "signing.create", signing, address, mode=mode,
                      term_years=term)
        await self.hub.events.emit("signing.created", event_payload(signing))
        return signing

    async def _transition(self, signing: dict[str, Any], expect: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Move a signing from ``expect`` to a new state; the caller holds the resident's lease."""
        changes = {**changes, "updated_at": now()}
        if changes.get("status") in CLOSED:
            changes["active_key"] = signing["_id"]
        updated = await self.db.signings.find_one_and_update({"_id": signing["_id"], "status": expect},
                                                            {"$set": changes}, return_document=ReturnDocument.AFTER)
        if updated is None:
            current = await self.db.signings.find_one({"_id": signing["_id"]}, {"status": 1})
            raise WrongState(signing_id=signing["_id"], status=current["status"] if current else None, expected=expect)
        await self.refresh_status(signing["resident_id"])
        return updated

    async def _locked_transition(self, signing: dict[str, Any], expect: str, changes: dict[str, Any]
                                 ) -> dict[str, Any]:
        async with locks.resident_lock(self.hub, signing["resident_id"]):
            return await self._transition(signing, expect, changes)

    async def approve(self, ctx: RequestContext, signing: dict[str, Any], *, term_years: int | None = None
                     ) -> dict[str, Any]:
        """A doctor of the team approves a pending application; the term may be changed."""
        actor, address = ctx.person, ctx.address
        max_term, _ = self.settings()
        term = check_term(term_years if term_years is not None else signing["term_years"], max_term)
        async with locks.resident_lock(self.hub, signing["resident_id"]):
            resident = await self._fresh_resident(signing["resident_id"])
            if resident.get("unable"):
                raise UnableToSign(resident_id=resident["_id"], kind=resident["unable"].get("kind"))
            moment = now()
            updated = await self._transition(signing, "pending", {
                "status": "active", "term_years": term, "start": moment, "end": add_years(moment, term),
                "reviewed_by": actor["_id"], "reviewed_at": moment})
        await self._tag_populations(resident)
        await self._record(actor, "signing.approve", updated, address, term_years=term)
        await self.hub.events.emit("signing.approved", event_payload(updated))
        return updated

    async def reject(self, ctx: RequestContext, signing: dict[str, Any], reason: str) -> dict[str, Any]:
        actor, address = ctx.person, ctx.address
        screened = await self.hub.screen(reason, actor, {"plugin": "signing", "object": signing["_id"]})
        updated = await self._locked_transition(signing, "pending", {
            "status": "rejected", "reason": screened.text, "reviewed_by": actor["_id"], "reviewed_at": now()})
        await self._record(actor, "signing.reject", updated, address)
        await self.hub.events.emit("signing.rejected", event_payload(updated))
        return updated

    async def cancel(self, ctx: RequestContext, signing: dict[str, Any]) -> dict[str, Any]:
        """The applicant withdraws a pending application."""
        actor, address = ctx.actor, ctx.address
        updated = await self._locked_transition(signing, "pending", {"status": "cancelled"})
        await self._record(actor, "signing.cancel", updated, address)
        await self.hub.events.emit("signing.cancelled", event_payload(updated))
        return updated

    async def _terminate(self, signing: dict[str, Any], reason: str) -> dict[str, Any]:
        return await self._transition(signing, "active", {"status": "terminated", "reason": reason,
                                                          "terminated_at": now(), "end": now()})

    async def _announce_termination(self, actor: dict[str, Any] | None, updated: dict[str, Any], reason: str,
                                    address: str) -> None:
        await self._record(actor, "signing.terminate", updated, address)
        await self.hub.events.emit("signing.terminated", event_payload(updated, reason=reason))

    async def terminate(self, ctx: RequestContext, signing: dict[str, Any], reason: str, screen: bool = True
                       ) -> dict[str, Any]:
        """解约: an active signing ends before its term, with a reason."""
        actor, address = ctx.actor, ctx.address
        if screen and actor is not None:
            reason = (await self.hub.screen(reason, actor, {"plugin": "signing", "object": signing["_id"]})).text
        async with locks.resident_lock(self.hub, signing["resident_id"]):
            updated = await self._terminate(signing, reason)
        await self._announce_termination(actor, updated, reason, address)
        return updated

    async def renew(self, ctx: RequestContext, signing: dict[str, Any], *, term_years: int | None = None
                   ) -> dict[str, Any]:
        """续签: the same signing runs on for a new term from its current end (in place, so the resident's
        active_key never lets go, and the old term stays in ``terms``: the signing is in force without a gap, see
        ``in_force``). Only within the renewal window, so no renewal reaches further than one term past the current
        end, and a term (whole years, at most ``signing.max_term_years``) always counts from its own start."""
        actor, address = ctx.actor, ctx.address
        max_term, notice_days = self.settings()
        term = check_term(term_years if term_years is not None else signing["term_years"], max_term)
        async with locks.resident_lock(self.hub, signing["resident_id"]):
            signing = await self.get_signing(signing["_id"])
            if signing["status"] != "active":
                raise WrongState(signing_id=signing["_id"], status=signing["status"], expected="active")
            opens = renewable_from(signing["end"], notice_days)
            if opens > now():
                raise WrongState("签约未到续签期", signing_id=signing["_id"], reason="not_due",
                                 renewable_from=iso(opens))
            start = signing["end"]
            end = add_years(start, term)
            while end <= now():  # the job was down for longer than a term: catch up
                start, end = end, add_years(end, term)
            updated = await self.db.signings.find_one_and_update(
                {"_id": signing["_id"], "status": "active", "end": signing["end"]},
                {"$set": {"start": start, "end": end, "term_years": term, "expiring_notified": False,
                          "updated_at": now()},
                 "$push": {"terms": {"start": signing["start"], "end": signing["end"],
                                     "term_years": signing["term_years"], "renewed_at": now(),
                                     "by": actor["_id"] if actor else None}}},
                return_document=ReturnDocument.AFTER)
            if updated is None:
                raise WrongState(signing_id=signing["_id"], reason="changed_concurrently")
            await self.refresh_status(signing["resident_id"])
        await self._record(actor, "signing.renew", updated, address, term_years=term)
        await self.hub.events.emit("signing.renewed", event_payload(updated, previous_end=iso(signing["end"])))
        return updated

    async def expire(self, signing: dict[str, Any]) -> dict[str, Any]:
        updated = await self._locked_transition(signing, "active", {"status": "expired"})
        await self._record(None, "signing.expire", updated, "")
        await self.hub.events.emit("signing.expired", event_payload(updated))
        return updated

    async def _last_closed(self, resident_id: str) -> str | None:
        last = await self.db.signings.find({"resident_id": resident_id, "status": {"$in": list(CLOSED)}}
                                      ).sort("_id", -1).limit(1).to_list()
        return last[0]["status"] if last else None

    async def refuse(self, ctx: RequestContext, resident: dict[str, Any], reason: str) -> dict[str, Any]:
        """拒签: the resident declined; recorded as a closed signing record of the doctor's team. Not for a resident
        who holds a signing, is already 拒签 (a refusal counts once until something else happens), or is registered
        as unable to sign (a dead, imprisoned or departed person does not refuse)."""
        actor, address = ctx.person, ctx.address
        team = await self.hub.roster.teams.find(actor["team_id"])
        record_id = new_id()
        screened = await self.hub.screen(reason, actor, {"plugin": "signing", "object": record_id})
        async with locks.resident_lock(self.hub, resident["_id"]):
            resident = await self._fresh_resident(resident["_id"])
            if resident.get("unable"):
                kind = resident["unable"].get("kind")
                message = "该居民已登记死亡，不能记录拒签" if kind == "死亡" else "该居民已登记为无法签约，不能记录拒签"
                raise UnableToSign(message, resident_id=resident["_id"], kind=kind)
            if await self.db.signings.find_one({"active_key": resident["_id"]}, {"_id": 1}):
                raise AlreadySigned(resident_id=resident["_id"])
            if await self._last_closed(resident["_id"]) == "refused":
                raise AlreadyRefused(resident_id=resident["_id"])
            moment = now()
            record = new_signing(resident, team=team, doctor=actor, mode="entry", status="refused",
                                 created_by=actor["_id"], auto_renew=False, reason=screened.text, moment=moment,
                                 signing_id=record_id)
            await self.db.signings.insert_one(record)
            await self.refresh_status(resident["_id"])
        await self._record(actor, "signing.refuse", record, address)
        await self.hub.events.emit("signing.refused", event_payload(record))
        return record

    async def _each_due(self, query: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The signings matching ``query``, in id order, in batches (a skipped one is not found again)."""
        after = ""
        while True:
            due = await self.db.signings.find({**query, "_id": {"$gt": after}}).sort("_id", 1).limit(
                JOB_BATCH).to_list()
            for signing in due:
                yield signing
            if len(due) < JOB_BATCH:
                return
            after = due[-1]["_id"]

    def renew_ahead(self) -> timedelta:
        """How long before its end the job renews an auto-renewing signing: up to its own interval (so the term is
        renewed by the last run before it ends, never after), and never before the renewal window opens."""
        _, notice_days = self.settings()
        return min(timedelta(seconds=self.hub.config["signing.renewal_job_interval_secs"]), timedelta(days=notice_days))

    async def run_renewals(self) -> dict[str, int]:
        """Renew auto-renewing signings by the last run before their end (so the resident is never left without a
        doctor in between), expire the others at their end; mark residents 待续签 ``renewal_notice_days`` before and
        publish ``signing.expiring`` once per term."""
        counts = {"renewed": 0, "expired": 0, "expiring": 0}
        _, notice_days = self.settings()
        moment = now()
        async for signing in self._each_due({"status": "active", "end": {"$lte": moment + self.renew_ahead()}}):
            try:
                resident = await self.hub.roster.residents.find(signing["resident_id"], {"unable": 1})
                if signing.get("auto_renew", True) and not (resident or {}).get("unable"):
                    await self.renew(SYSTEM, signing)
                    counts["renewed"] += 1
                elif signing["end"] <= moment:
                    await self.expire(signing)
                    counts["expired"] += 1
            except (WrongState, locks.Busy):
                continue  # changed meanwhile, or being changed by a person: the next run looks again
        cutoff = now() + timedelta(days=notice_days)
        async for signing in self._each_due({"status": "active", "end": {"$lte": cutoff},
                                             "expiring_notified": {"$ne": True}}):
            claimed = await self.db.signings.update_one({"_id": signing["_id"], "expiring_notified": {"$ne": True}},
                                                       {"$set": {"expiring_notified": True}})
            if claimed.modified_count:
                await self.refresh_status(signing["resident_id"])
                await self.hub.events.emit("signing.expiring", event_payload(signing, days_left=max(
                    0, (signing["end"] - now()).days)))
                counts["expiring"] += 1
        return counts

    async def request_unable(self, ctx: RequestContext, resident: dict[str, Any], kind: object, reason: str
                            ) -> dict[str, Any]:
        actor, address = ctx.person, ctx.address
        if kind not in UNABLE_KINDS:
            raise InvalidInput(f"kind 应为 {' / '.join(UNABLE_KINDS)}", field="kind")
        if resident.get("unable"):
            raise UnableToSign(resident_id=resident["_id"])
        request_id = new_id()
        screened = await self.hub.screen(reason, actor, {"plugin": "signing", "object": request_id})
        async with locks.resident_lock(self.hub, resident["_id"]):
            resident = await self._fresh_resident(resident["_id"])
            if resident.get("unable"):
                raise UnableToSign(resident_id=resident["_id"])
            doc = {"_id": request_id, "resident_id": resident["_id"], "resident_name": resident["name"],
                   "id_number": resident.get("id_number"), "region": resident.get("region", ""),
                   "team_id": actor.get("team_id"), "institution_id": actor.get("institution_id"), "kind": kind,
                   "reason": screened.text, "status": "pending", "pending_key": resident["_id"],
                   "requested_by": actor["_id"], "requested_by_name": actor["name"], "created_at": now(),
                   "reviewed_by": None, "reviewed_at": None, "note": None}
            try:
                await self.db.unable_requests.insert_one(doc)
            except DuplicateKeyError:
                raise Conflict("该居民已有待审核的无法签约申请", resident_id=resident["_id"],
                               reason="pending_request") from None
        await self.hub.audit.record(actor=actor, action="signing.unable_request", target=request_id, address=address,
                               region=doc["region"], details={"resident_id": resident["_id"], "kind": kind})
        await self.hub.events.emit("unable_to_sign.requested", unable_payload(doc))
        return doc

    async def get_unable_request(self, request_id: str) -> dict[str, Any]:
        return await get_by_id(self.db.unable_requests, request_id, "申请不存在")

    async def _close_holder(self, resident_id: str, reason: str) -> dict[str, Any] | None:
        """Close the resident's pending or active signing (the caller holds the lease); returns a terminated one."""
        holder = await self.db.signings.find_one({"active_key": resident_id})
        if holder is not None and holder["status"] == "active":
            return await self._terminate(holder, reason)
        if holder is not None:
            await self._transition(holder, "pending", {"status": "cancelled", "reason": reason})
        return None

    async def review_unable(self, ctx: RequestContext, request: dict[str, Any], *, approved: bool, note: str
                           ) -> dict[str, Any]:
        """A supervisor approves (the resident becomes 无法签约 and their signing closes) or rejects."""
        actor, address = ctx.person, ctx.address
        if note:
            note = (await self.hub.screen(note, actor, {"plugin": "signing", "object": request["_id"]})).text
        terminated = None
        reason = f"无法签约：{request['kind']}"
        async with locks.resident_lock(self.hub, request["resident_id"]):
            updated = await self.db.unable_requests.find_one_and_update(
                {"_id": request["_id"], "status": "pending"},
                {"$set": {"status": "approved" if approved else "rejected", "reviewed_by": actor["_id"],
                          "reviewed_at": now(), "note": note or None, "pending_key": request["_id"]}},
                return_document=ReturnDocument.AFTER)
            if updated is None:
                raise WrongState(request_id=request["_id"], expected="pending")
            if approved:
                await self.hub.roster.residents.set_state(request["resident_id"], {"unable": {
                    "kind": request["kind"], "request_id": request["_id"], "at": iso(now())}})
                terminated = await self._close_holder(request["resident_id"], reason)
                await self.refresh_status(request["resident_id"])
        if terminated is not None:
            await self._announce_termination(actor, terminated, reason, address)
        await self.hub.audit.record(actor=actor, action="signing.unable_" + ("approve" if approved else "reject"),
                               target=request["_id"], address=address, region=request["region"],
                               details={"resident_id": request["resident_id"], "kind": request["kind"]})
        await self.hub.events.emit("unable_to_sign." + ("approved" if approved else "rejected"),
                                   unable_payload(updated))
        return updated

    async def lift_unable(self, ctx: RequestContext, request: dict[str, Any], resident: dict[str, Any], reason: str
                         ) -> dict[str, Any]:
        """撤销无法签约: an approved unable-to-sign is lifted with a reason (the resident came back, was released, the
        record was wrong). The request becomes ``lifted``, the resident's flag goes, their status is derived again
        (未签约, or 拒签 when their last record is a refusal) and they may be signed again."""
        actor, address = ctx.person, ctx.address
        def refused() -> WrongState:
            return WrongState("只能撤销已通过且仍有效的无法签约", request_id=request["_id"], status=request["status"],
                              expected="approved")
        if request["status"] != "approved" or (resident.get("unable") or {}).get("request_id") != request["_id"]:
            raise refused()
        reason = (await self.hub.screen(reason, actor, {"plugin": "signing", "object": request["_id"]})).text
        async with locks.resident_lock(self.hub, resident["_id"]):
            moment = now()
            updated = await self.db.unable_requests.find_one_and_update(
                {"_id": request["_id"], "status": "approved"},
                {"$set": {"status": "lifted", "lifted_by": actor["_id"], "lifted_by_name": actor["name"],
                          "lifted_at": moment, "lift_reason": reason}},
                return_document=ReturnDocument.AFTER)
            if updated is None:  # lifted by someone else meanwhile
                raise refused()
            await self.hub.roster.residents.set_state(resident["_id"], {"unable": None},
                                                 only_if={"unable.request_id": request["_id"]})
            status = await self.refresh_status(resident["_id"])
        await self.hub.audit.record(actor=actor, action="signing.unable_lift", target=request["_id"], address=address,
                               region=resident.get("region", ""),
                               details={"resident_id": resident["_id"], "kind": request["kind"], "status": status})
        await self.hub.events.emit("unable_to_sign.lifted", {**unable_payload(updated), "resident_status": status})
        return updated

    async def list_signings(self, user: dict[str, Any], args: dict[str, str], *, limit: int, cursor: str | None
                            ) -> tuple[list[dict[str, Any]], str | None]:
        return await page(self.db.signings, list_filter(user, args), limit=limit, cursor=cursor)

    async def review_counts(self, user: dict[str, Any], args: dict[str, str]) -> dict[str, int]:
        """How many signings of the filtered list are in each tab of the review center (pending, approved,
        rejected), whatever ``status`` the list asks for."""
        others = {k: v for k, v in args.items() if k != "status"}
        return {tab: await self.db.signings.count_documents(list_filter(user, {**others, "status": tab}))
                for tab in REVIEW_TABS}

    async def progress(self, query: dict[str, Any]) -> dict[str, int]:
        """How many signings are in each state (a doctor's 签约进度)."""
        counts = {state: 0 for state in STATES}
        async for row in await self.db.signings.aggregate([{"$match": query},
                                                      {"$group": {"_id": "$status", "n": {"$sum": 1}}}]):
            counts[row["_id"]] = row["n"]
        return counts

    async def in_force_for(self, resident_ids: list[str]) -> list[dict[str, Any]]:
        """The signings in force today of these resident records (through a renewal too: ``in_force``)."""
        return await self.db.signings.find({"resident_id": {"$in": resident_ids}, **in_force(now())}).to_list(20)

    async def renumbered(self, resident_id: str, number: str) -> None:
        """What the roster calls when it rewrites a stored ID number: the signings' copies follow."""
        await self.db.signings.update_many({"resident_id": resident_id}, {"$set": {"id_number": number}})

    async def remove_family_member(self, resident: dict[str, Any]) -> str:
        """Unlink a family member from its account (the roster deletes a record the account created and that was
        never signed); the signings' copies of the account follow. Not while the member holds a signing in
        force or a pending application. Returns "deleted" or "unlinked"."""
        if resident.get("status") in ("signed", "to_renew") or await self.db.signings.find_one(
                {"active_key": resident["_id"], "status": "pending"}, {"_id": 1}):
            raise WrongState("有有效签约或待审核申请的成员不能删除", resident_id=resident["_id"])
        signed = await self.db.signings.find_one({"resident_id": resident["_id"]}, {"_id": 1})
        outcome = await self.hub.roster.residents.detach(resident, ever_signed=signed is not None)
        if outcome == "unlinked":
            await self.db.signings.update_many({"resident_id": resident["_id"]}, {"$set": {"account_id": None}})
        return outcome

    async def check_terms(self, body: dict[str, Any]) -> dict[str, Any]:
        """The package, term and auto-renewal a signing request names (the rules re-check them when signing)."""
        package = await self.roster.packages.get(body.get("package_id"))
        if body.get("term_years") is not None:
            check_term(body["term_years"], self.settings()[0])
        if not isinstance(body.get("auto_renew", True), bool):
            raise InvalidInput("auto_renew 应为 true 或 false", field="auto_renew")
        return package

    async def enter(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """Entry mode: a doctor signs on the spot a resident of the roster (``resident_id``) or one entered now
        (``resident``: details; a number the roster holds must come with that record's name)."""
        actor = ctx.actor or {}
        team_id = scopes.require_signing_staff(actor)
        await self.check_terms(body)  # before a new resident record is written: a refusal changes nothing
        given_name = None
        if "resident" in body:
            if not isinstance(body["resident"], dict):
                raise InvalidInput("resident 应为居民信息", field="resident")
            fields = await self.roster.residents.check_details(body["resident"])
            given_name = fields["name"]
            resident = await self.roster.residents.find_by_id_number(fields["id_number"])
            if resident is not None:
                self.roster.scopes.require_see_resident(actor, resident)
            else:
                self.roster.scopes.require_in_service_area(actor, fields["village"])
                resident = await self.roster.residents.insert(new_resident(fields, created_by=actor["_id"]))
        else:
            resident = await self.visible_resident(actor, required_id(body, "resident_id"))
        team = await self.roster.teams.get(team_id)
        return await self.open_signing(ctx, resident, team=team, doctor=actor, mode="entry",
                                       term_years=body.get("term_years"), package_id=body.get("package_id"),
                                       auto_renew=body.get("auto_renew", True), given_name=given_name)

    async def sign_many(self, ctx: RequestContext, resident_ids: list[str], body: dict[str, Any]
                        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Pick mode: sign each resident ticked in the roster; returns the signings and the failures (resident
        id, code, message)."""
        actor = ctx.actor or {}
        team = await self.roster.teams.get(scopes.require_signing_staff(actor))
        package = await self.check_terms(body)  # once, not per resident
        signed, failed = [], []
        for resident_id in resident_ids:
            try:
                resident = await self.visible_resident(actor, resident_id)
                signed.append(await self.open_signing(ctx, resident, team=team, doctor=actor, mode="pick",
                                                      term_years=body.get("term_years"), package_id=package["_id"]))
            except (InvalidInput, Forbidden, Conflict, NotFound) as exc:
                failed.append({"resident_id": resident_id, "code": exc.code, "message": exc.message})
        return signed, failed

    async def renew_by_resident(self, ctx: RequestContext, signing: dict[str, Any]) -> dict[str, Any]:
        """The resident account renews once the resident is 待续签."""
        resident = await self.roster.residents.get(signing["resident_id"])
        if resident.get("status") != "to_renew":
            raise WrongState("签约未到续签期", signing_id=signing["_id"])
        return await self.renew(ctx, signing)

    async def visible_resident(self, user: dict[str, Any], resident_id: str) -> dict[str, Any]:
        resident = await self.roster.residents.get(resident_id)
        self.roster.scopes.require_see_resident(user, resident)
        return resident

    async def history_of(self, resident_id: str, most: int = 50) -> list[dict[str, Any]]:
        """A resident's signing records, newest first."""
        return await self.db.signings.find({"resident_id": resident_id}).sort("_id", -1).to_list(most)

    async def holding(self, resident_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Resident id → their pending or active signing, for those that hold one."""
        return {s["resident_id"]: s async for s in self.db.signings.find(
            {"resident_id": {"$in": resident_ids}, "status": {"$in": list(HOLDING)}})}

    async def page_unable(self, user: dict[str, Any], status: str, *, limit: int, cursor: str | None
                          ) -> tuple[list[dict[str, Any]], str | None]:
        """Unable-to-sign requests in the user's scope (``scopes.unable_filter``), by ``status``, newest first."""
        query = dict(scopes.unable_filter(user))
        if status:
            if status not in UNABLE_STATES:
                raise InvalidInput(f"status 应为 {' / '.join(UNABLE_STATES)}", field="status")
            query = {"$and": [query, {"status": status}]}
        return await page(self.db.unable_requests, query, limit=limit, cursor=cursor)


def service(hub: Any) -> Signings:
    """The hub's one ``Signings`` (kept in ``hub.plugin_state["signing"]``, built on first use)."""
    state = hub.plugin_state.setdefault("signing", {})
    if "signings" not in state:
        state["signings"] = Signings(hub)
    return state["signings"]
