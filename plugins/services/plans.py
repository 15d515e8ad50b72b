"""Follow-up plans (``services_plans``, one per resident, keyed by the resident id): the dates the schedules are
anchored on, and the visits ``followups.plan_visits`` made from them and from the resident's recorded follow-ups
when it was last planned. Re-planning runs under the resident's lock (``resident_lock``), so two follow-ups
recorded at once are both in the plan, in the order of their days.

What changed from one plan to the next is published: ``followup.planned`` for each open visit that is new (or
has a new window), ``followup.done`` for each visit newly completed — each emit with a dedupe key, so a
re-planning that finds nothing new publishes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from hub.ids import CST, now
from plugins.services.catalogue import FOLLOWUP_TYPES
from plugins.services.followups import (
    CHECK_TYPE,
    PREGNANCY,
    STATE_LABELS,
    Dates,
    FollowUp,
    Visit,
    plan_visits,
    populations_on,
    restate,
)
from plugins.services.forms import DIAGNOSED_FIELDS

DATE_FIELDS = ("expected_delivery", "delivered", "mother_discharged", "discharged")
OPEN_STATES = ("planned", "due", "overdue", "lost")
MOST_RECORDS = 5000  # a resident's follow-ups replayed per planning (a child's 13 contacts, decades of quarters)


def today_cst(moment: datetime | None = None) -> date:
    return (moment or now()).astimezone(CST).date()


@asynccontextmanager
async def resident_lock(hub: Any, resident_id: str) -> AsyncIterator[None]:
    """The resident's lease of ``hub.locks``: a record, an edit, a correction and a re-planning of one resident
    never interleave (``LockBusy``, 503, after ``services.resident_lock_wait_secs``)."""
    async with hub.locks.hold(f"services:resident:{resident_id}",
                              ttl_secs=hub.config["services.resident_lock_ttl_secs"],
                              wait_secs=hub.config["services.resident_lock_wait_secs"]):
        yield


def effective(record: dict[str, Any]) -> dict[str, Any]:
    """A record as it stands: the original with its correction entries applied in order."""
    current = {k: record.get(k) for k in ("item", "at", "place", "content", "followup")}
    for correction in record.get("corrections", []):
        current.update(correction["changes"])
    return current


def as_followup(record: dict[str, Any]) -> FollowUp:
    current = effective(record)
    form = current.get("followup") or {}
    return FollowUp(record["_id"], today_cst(current["at"]), record.get("population"), type=record["type"],
                    form=form, contact=form.get("contact"))


def dates_of(plan: dict[str, Any], resident: dict[str, Any]) -> Dates:
    stored = plan.get("dates", {})
    day = date.fromisoformat

    def known(name: str) -> date | None:
        return day(stored[name]) if stored.get(name) else None
    return Dates(since=day(plan["since"]), birth=day(resident["birth_date"]) if resident.get("birth_date") else None,
                 diagnosed={population: day(stored[name]) for name, population in DIAGNOSED_FIELDS.items()
                            if stored.get(name)},
                 **{name: known(name) for name in DATE_FIELDS})


def missing_dates(plan: dict[str, Any]) -> list[str]:
    """The dates a population's schedule cannot be planned without (a pregnancy without its expected delivery)."""
    return ["expected_delivery"] if PREGNANCY in plan.get("populations", []) \
        and not plan.get("dates", {}).get("expected_delivery") else []


def render_plan(plan: dict[str, Any], visits: list[Visit]) -> dict[str, Any]:
    return {"resident_id": plan["_id"], "since": plan["since"], "dates": plan.get("dates", {}),
            "populations": plan.get("populations", []), "missing": missing_dates(plan),
            "visits": [v.as_dict() for v in visits], "version": plan.get("version", 0)}


class Plans:
    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.db = hub.db

    async def stored(self, resident_id: str) -> dict[str, Any] | None:
        return await self.db.services_plans.find_one({"_id": resident_id})

    async def _records(self, resident_id: str) -> list[dict[str, Any]]:
        return await self.db.services_records.find(
            {"resident_id": resident_id, "$or": [{"population": {"$ne": None}}, {"type": CHECK_TYPE}]}
        ).to_list(MOST_RECORDS)

    async def compute(self, resident: dict[str, Any], plan: dict[str, Any] | None = None,
                      today: date | None = None) -> tuple[dict[str, Any], list[Visit]]:
        """The resident's plan as of ``today`` (nothing stored): a resident never planned starts today."""
        today = today or today_cst()
        plan = plan or await self.stored(resident["_id"]) or {"_id": resident["_id"], "since": today.isoformat()}
        birth = date.fromisoformat(resident["birth_date"]) if resident.get("birth_date") else None
        populations = populations_on(resident.get("key_populations", []), birth, today)
        records = [as_followup(r) for r in await self._records(resident["_id"])]
        visits = plan_visits(populations, dates_of(plan, resident), records, today)
        return {**plan, "populations": populations}, visits

    async def replan(self, resident: dict[str, Any], dates: dict[str, Any] | None = None) -> tuple[dict[str, Any],
                                                                                                 list[Visit]]:
        """Plan again and store it (call under ``resident_lock``); ``dates`` replaces the anchoring dates."""
        before = await self.stored(resident["_id"])
        plan = dict(before) if before else {"_id": resident["_id"], "since": today_cst().isoformat()}
        if dates is not None:
            plan["dates"] = {k: v for k, v in {**plan.get("dates", {}), **dates}.items() if v}
        plan, visits = await self.compute(resident, plan)
        rendered = [v.as_dict() for v in visits]
        still_open = [v for v in visits if v.state in OPEN_STATES]
        plan.update(team_id=resident.get("team_id"), institution_id=resident.get("institution_id"),
                    region=resident.get("region", ""), visits=rendered,
                    next_latest=min((v.latest.isoformat() for v in still_open), default=None),
                    open_earliest=min((v.earliest.isoformat() for v in still_open), default=None),
                    version=plan.get("version", 0) + 1, updated_at=now())
        await self.db.services_plans.replace_one({"_id": resident["_id"]}, plan, upsert=True)
        await self._announce(resident, (before or {}).get("visits", []), visits)
        return plan, visits

    async def _announce(self, resident: dict[str, Any], before: list[dict[str, Any]], visits: list[Visit]) -> None:
        was_open = {(v["population"], v["key"], v["earliest"], v["latest"]) for v in before
                    if v["state"] in OPEN_STATES}
        was_done = {(v["population"], v["key"], v["record_id"]) for v in before if v["state"] == "done"}
        for visit in visits:
            ident = (visit.population, visit.key, visit.earliest.isoformat(), visit.latest.isoformat())
            if visit.state in OPEN_STATES and ident not in was_open:
                await self.hub.events.emit("followup.planned", {
                    "resident_id": resident["_id"], "team_id": resident.get("team_id"),
                    "population": visit.population, "visit": visit.key, "earliest": ident[2], "latest": ident[3],
                    "referral": visit.referral, "emergency": visit.emergency},
                    dedupe=f"followup.planned:{resident['_id']}:{':'.join(ident)}")
            if visit.state == "done" and (visit.population, visit.key, visit.record_id) not in was_done \
                    and visit.done_on is not None:
                await self.hub.events.emit("followup.done", {
                    "record_id": visit.record_id, "resident_id": resident["_id"], "team_id": resident.get("team_id"),
                    "population": visit.population, "visit": visit.key, "done_on": visit.done_on.isoformat(),
                    "on_time": visit.done_on <= visit.latest},
                    dedupe=f"followup.done:{visit.record_id}:{visit.population}:{visit.key}")

    def due_filter(self, scope: dict[str, Any], horizon: date) -> dict[str, Any]:
        """Stored plans in ``scope`` with an open visit whose window opens by ``horizon``."""
        return {"$and": [scope, {"open_earliest": {"$ne": None, "$lte": horizon.isoformat()}}]}

    @staticmethod
    def due_visits(plan: dict[str, Any], today: date, horizon: date) -> list[dict[str, Any]]:
        """A stored plan's visits to make by ``horizon`` (due, overdue, or opening by then), restated for today."""
        found = []
        for visit in plan.get("visits", []):
            state = restate(visit, today)
            if state in ("due", "overdue") or (state == "planned" and visit["earliest"] <= horizon.isoformat()):
                found.append({**visit, "state": state, "state_label": STATE_LABELS[state]})
        return found

    @staticmethod
    def touches_plan(record: dict[str, Any]) -> bool:
        return record.get("population") is not None or record["type"] == CHECK_TYPE

    @staticmethod
    def may_carry_form(record_type: str) -> bool:
        return record_type in FOLLOWUP_TYPES
