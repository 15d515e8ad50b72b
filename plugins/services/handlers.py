"""HTTP handlers of the services plugin: thin — authenticate, check the role and scope, call a service
(``records``, ``plans``, ``requests``), render. The URL table is at the end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.base import BaseHandler
from hub import PAGE, Forbidden, Int
from hub.ids import iso, now
from hub.pages import page
from hub.roster.packages import render_package
from hub.roster.scopes import TEAM_ROLES, can_see_resident, require_see_resident, scope_filter
from plugins.services import catalogue, forms, service
from plugins.services.followups import POPULATIONS, SCHEDULES, STATE_LABELS
from plugins.services.plans import render_plan, resident_lock, today_cst
from plugins.services.records import SIGNED_STATES, render_record, require_team_staff, signing_of
from plugins.services.requests import STEPS, render_request


class ServicesHandler(BaseHandler):
    @property
    def services(self) -> Any:
        return service(self.hub)

    def args(self, names: tuple[str, ...]) -> dict[str, str]:
        return {n: v for n in names if (v := self.get_query_argument(n, "").strip())}

    async def visible_resident(self, user: dict[str, Any], resident_id: str) -> dict[str, Any]:
        resident = await self.hub.roster.residents.get(resident_id)
        require_see_resident(user, resident)
        return resident


class CatalogueHandler(ServicesHandler):
    async def get(self) -> None:
        """The service catalogue: record types, the packages' items with their yearly frequency, and the follow-up
        schedules and form fields of the six populations."""
        await self.authenticate()
        packages = await self.hub.roster.packages.enabled()
        self.reply({
            "record_types": list(catalogue.RECORD_TYPES), "followup_types": list(catalogue.FOLLOWUP_TYPES),
            "packages": [render_package(p) for p in packages],
            "populations": [{"name": p, "label": SCHEDULES[p].label, "fields": sorted(forms.FORM_FIELDS[p]),
                             "required": list(forms.REQUIRED[p])} for p in POPULATIONS],
            "visit_states": STATE_LABELS})


class RecordsHandler(ServicesHandler):
    body_schema = {"post": forms.NEW_RECORD}
    query_schema = {"get": forms.RECORD_QUERY}

    async def get(self) -> None:
        """List service records in the caller's scope (a resident account: its family's), newest first."""
        user = await self.authenticate()
        query = await self.services.records.query_for(user, self.args(("resident_id", "population", "type")))
        docs, cursor = await page(self.hub.db.services_records, query, limit=self.limit(),
                                  cursor=self.get_query_argument("cursor", None))
        self.reply_page([render_record(d) for d in docs], cursor)

    async def post(self) -> None:
        """Record a service act (履约记录) for a signed resident of the caller's team; a follow-up re-plans them."""
        user = await self.authenticate()
        if user["role"] not in TEAM_ROLES:  # before the body: who may not act learns that, not the input rules
            raise Forbidden("只有家庭医生团队成员可以记录服务", role=user["role"])
        doc = await self.services.records.record(self.context(user), self.json_body())
        self.reply(render_record(doc), 201)


class RecordHandler(ServicesHandler):
    body_schema = {"patch": forms.RECORD_EDIT}

    async def get(self, record_id: str) -> None:
        """One service record, with its original and its correction entries."""
        user = await self.authenticate()
        self.reply(render_record(await self.services.records.visible(user, record_id)))

    async def patch(self, record_id: str) -> None:
        """Edit a record: its author only, within ``services.edit_window_mins`` of recording it."""
        user = await self.authenticate()
        record = await self.services.records.visible(user, record_id)
        self.services.records.require_editable(user, record)
        updated = await self.services.records.edit(self.context(user), record, self.json_body())
        self.reply(render_record(updated))


class CorrectionsHandler(ServicesHandler):
    body_schema = {"post": forms.CORRECTION}

    async def post(self, record_id: str) -> None:
        """Add a correction entry to a record (staff of the resident's team); the original stays."""
        user = await self.authenticate()
        record = await self.services.records.visible(user, record_id)
        self.services.records.require_corrector(user, record)
        updated = await self.services.records.correct(self.context(user), record, self.json_body())
        self.reply(render_record(updated), 201)


class PlanHandler(ServicesHandler):
    body_schema = {"put": forms.PLAN_DATES}

    async def get(self, resident_id: str) -> None:
        """A resident's follow-up plan as of today: each visit with its window and state."""
        user = await self.authenticate()
        resident = await self.visible_resident(user, resident_id)
        plan, visits = await self.services.plans.compute(resident)
        self.reply(render_plan(plan, visits))

    async def put(self, resident_id: str) -> None:
        """Set the dates a resident's schedules are anchored on (diagnoses, expected delivery, delivery,
        discharges) and re-plan: staff of the resident's team."""
        user = await self.authenticate()
        resident = await self.hub.roster.residents.get(resident_id)
        require_team_staff(user, resident)
        body = self.json_body()
        async with resident_lock(self.hub, resident_id):
            plan, visits = await self.services.plans.replan(resident, dates={k: body.get(k) for k in body})
        await self.audit("services.plan_dates", resident_id, fields=sorted(body))
        self.reply(render_plan(plan, visits))


class DueHandler(ServicesHandler):
    query_schema = {"get": {"days": Int(least=0, most=62), **PAGE}}

    async def get(self) -> None:
        """The residents in the caller's scope with follow-ups to make within ``?days=`` (7: this week), overdue
        ones included: a doctor's, assistant's or leader's team, an admin's institution."""
        user = await self.authenticate()
        scope = scope_filter(user)
        if scope is None or user["role"] in ("supervisor", "sysadmin"):
            raise Forbidden("当前角色没有随访待办", role=user["role"])
        today = today_cst()
        days = self.int_arg("days")
        horizon = today + timedelta(days=7 if days is None else days)
        docs, cursor = await page(self.hub.db.services_plans, self.services.plans.due_filter(scope, horizon),
                                  limit=self.limit(), cursor=self.get_query_argument("cursor", None),
                                  newest_first=False)
        items = []
        for doc in docs:
            visits = self.services.plans.due_visits(doc, today, horizon)
            resident = await self.hub.roster.residents.find(doc["_id"])
            # a plan stored while another team held the resident (terminated, re-signed) is not this team's now
            if visits and resident is not None and can_see_resident(user, resident) \
                    and resident.get("status") in SIGNED_STATES:
                items.append({"resident_id": doc["_id"], "name": resident.get("name"),
                              "village": resident.get("village"), "address": resident.get("address", ""),
                              "visits": visits})
        self.reply_page(items, cursor)


class CycleHandler(ServicesHandler):
    async def get(self, resident_id: str) -> None:
        """A signed resident's package cycle: each item's yearly frequency, what is done, left and due by now in
        the current year of their term."""
        user = await self.authenticate()
        resident = await self.visible_resident(user, resident_id)
        signing = await signing_of(self.hub, resident)
        if signing is None:
            self.reply({"resident_id": resident_id, "signed": False, "package": None, "items": []})
            return
        package = await self.hub.roster.packages.get(signing.get("package_id"))
        moment = now()
        begin, end = catalogue.term_year(signing["start"], moment)
        done = await self.services.records.done_by_item(resident_id, begin, end)
        self.reply({"resident_id": resident_id, "signed": True,
                    "package": {"id": package["_id"], "name": package["name"]},
                    "year": {"start": iso(begin), "end": iso(end)},
                    "items": catalogue.cycle(package.get("items", []), done, begin, end, moment)})


class RequestsHandler(ServicesHandler):
    body_schema = {"post": forms.NEW_REQUEST}
    query_schema = {"get": forms.REQUEST_QUERY}

    async def get(self) -> None:
        """List service requests: a resident account its own, staff those in scope; newest first."""
        user = await self.authenticate()
        query = [self.services.requests.filter_for(user)]
        query += [{k: v} for k, v in self.args(("resident_id", "status")).items()]
        docs, cursor = await page(self.hub.db.services_requests, {"$and": query}, limit=self.limit(),
                                  cursor=self.get_query_argument("cursor", None))
        self.reply_page([render_request(d) for d in docs], cursor)

    async def post(self) -> None:
        """Ask for an item of a family member's package (申请服务), with a preferred time and a note."""
        user = await self.authenticate()
        if user["role"] != "resident":
            raise Forbidden("只有居民账号可以申请服务", reason="role")
        doc = await self.services.requests.create(self.context(user), self.json_body())
        self.reply(render_request(doc), 201)


class RequestHandler(ServicesHandler):
    async def get(self, request_id: str) -> None:
        """One service request with its history."""
        user = await self.authenticate()
        self.reply(render_request(await self.services.requests.visible(user, request_id)))


def _step_handler(step: str) -> type[ServicesHandler]:
    class StepHandler(ServicesHandler):
        body_schema = {"post": forms.REQUEST_STEP[step]}

        async def post(self, request_id: str) -> None:
            user = await self.authenticate()
            if user["role"] not in (*TEAM_ROLES, "resident"):
                raise Forbidden("当前角色无权处理服务申请", role=user["role"])
            request = await self.services.requests.visible(user, request_id)
            self.services.requests.require_stepper(user, request, step)
            updated = await self.services.requests.step(self.context(user), request, step, self.json_body())
            self.reply(render_request(updated))
    StepHandler.post.__doc__ = {"accept": "Accept a request (the resident's team).",
                                "schedule": "Schedule a request at a time (the resident's team).",
                                "complete": "Complete a request, optionally naming its service record.",
                                "decline": "Decline a request with a reason (the resident's team).",
                                "cancel": "Cancel an open request (the account that made it)."}[step]
    StepHandler.__name__ = StepHandler.__qualname__ = f"Request{step.title()}Handler"
    return StepHandler


ROUTES = [
    (r"/api/services/catalogue", CatalogueHandler),
    (r"/api/services/due", DueHandler),
    (r"/api/services/records", RecordsHandler),
    (r"/api/services/records/([^/]+)", RecordHandler),
    (r"/api/services/records/([^/]+)/corrections", CorrectionsHandler),
    (r"/api/services/residents/([^/]+)/plan", PlanHandler),
    (r"/api/services/residents/([^/]+)/cycle", CycleHandler),
    (r"/api/services/requests", RequestsHandler),
    (r"/api/services/requests/([^/]+)", RequestHandler),
    *[(rf"/api/services/requests/([^/]+)/{step}", _step_handler(step)) for step in STEPS],
]
