"""HTTP handlers of the signing plugin: thin — parse, check the role and scope (``scopes``), call a service,
render. The URL table is at the end."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from handlers.base import XLSX, BaseHandler
from hub import Forbidden, InvalidInput
from hub.ids import iso
from hub.policy import require_role
from hub.roster import Roster, regions, residents, tags, teams
from hub.roster.checks import optional_text, reason_text
from hub.roster.numbers import whole_numbers
from hub.roster.packages import render_package
from hub.schema import PAGE, SCREEN, Body, Bool, Code, Enum, Id, Text
from plugins.signing import imports, links, lookups, scopes, signings
from plugins.signing.schemas import (
    ACTION_BODY,
    APPLICATION,
    FAMILY_MEMBER,
    INSTITUTION,
    NEW_RESIDENT,
    PACKAGE,
    REASON,
    RESIDENT_EDIT,
    RESIDENT_QUERY,
    SIGNING_ENTRY,
    SIGNING_QUERY,
    STAFF,
    TEAM,
    TEAM_EDIT,
    UNABLE_NOTE,
    UNABLE_REQUEST,
    batch_body,
    page_query,
    regions_code,
    tag_apply_body,
    tag_body,
    tags_body,
)

RESIDENT_FILTERS = ("region", "village", "household", "team_id", "doctor_id", "id_number", "name", "phone",
                    "address", "status", "tag", "key_population", "q")
SIGNING_FILTERS = ("status", "doctor_id", "team_id", "mode", "resident_id", "id_number", "name")
MAX_BATCH = 200
MAX_EXPORT_ROWS = 20000
MAX_REGIONS_BYTES = 16 * 1024 * 1024  # a province's villages are ~1 MB; the whole country goes in regions_file


class SigningHandler(BaseHandler):
    @property
    def roster(self) -> Roster:
        return self.hub.roster

    @property
    def signings(self) -> signings.Signings:
        return signings.service(self.hub)

    @property
    def links(self) -> links.FamilyLinks:
        return links.service(self.hub)

    @property
    def imports(self) -> imports.Imports:
        return imports.service(self.hub)

    def args(self, names: tuple[str, ...]) -> dict[str, str]:
        return {n: v for n in names if (v := self.get_query_argument(n, "").strip())}

    def reply_xlsx(self, data: bytes, filename: str) -> None:
        self.set_header("Content-Type", XLSX)
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(filename)}")
        self.finish(data)

    async def visible_resident(self, user: dict[str, Any], resident_id: str) -> dict[str, Any]:
        resident = await self.roster.residents.get(resident_id)
        self.roster.scopes.require_see_resident(user, resident)
        return resident

    async def visible_signing(self, user: dict[str, Any], signing_id: str) -> dict[str, Any]:
        signing = await self.signings.get_signing(signing_id)
        scopes.require_see_signing(user, signing)
        return signing

    async def admit_lookup(self, user: dict[str, Any], numbers: dict[str, str]) -> dict[str, str]:
        """Count a lookup by whole numbers against the user's limit (429 past it); returns the numbers."""
        await lookups.admit(self.hub, user, numbers, address=self.address, target=self.request.path)
        return numbers

    async def render_residents(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return await self.roster.residents.render(docs)

    async def render_one(self, user: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
        return (await self.roster.residents.render([doc], whole=self.roster.scopes.shows_whole_numbers(user, doc)))[0]


# -- regions and the roster -------------------------------------------------------------------------------

class RegionsHandler(SigningHandler):
    max_body_bytes = MAX_REGIONS_BYTES
    body_types = {"post": ("text/csv",)}
    query_schema = {"get": {"parent": regions_code()}}

    async def get(self) -> None:
        """List regions: the children of ``?parent=`` (a 12-digit code), or the provinces."""
        await self.authenticate()
        parent = self.get_query_argument("parent", "") or None
        if parent:
            regions.check_code(parent, "parent")
        found = await self.roster.regions.children(parent)
        self.reply_page([regions.render_region(r) for r in found], None)

    async def post(self) -> None:
        """Load regions from a ``code,name`` CSV body (sysadmin).

        Each region's parent must be in the file or already known."""
        user = await self.authenticate()
        require_role(user, "sysadmin")
        try:
            text = self.request.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("区划文件须为 UTF-8 编码", field="body") from None
        written = await self.roster.regions.load(regions.parse_region_file(text))
        await self.audit("signing.regions_load", "regions", count=written)
        self.reply({"written": written})


class InstitutionsHandler(SigningHandler):
    query_schema = {"get": {"region": regions_code(), **PAGE}}
    body_schema = {"post": INSTITUTION}

    async def get(self) -> None:
        """List institutions (卫生院 / 社区卫生服务中心), optionally inside ``?region=``."""
        await self.authenticate()
        docs, cursor = await self.roster.institutions.page(self.get_query_argument("region", "") or None,
                                                           limit=self.limit(),
                                                           cursor=self.get_query_argument("cursor", None))
        self.reply_page([teams.render_institution(d) for d in docs], cursor)

    async def post(self) -> None:
        """Create an institution in a region (sysadmin)."""
        user = await self.authenticate()
        require_role(user, "sysadmin")
        doc = await self.roster.institutions.create(self.json_body())
        await self.audit("signing.institution_create", doc["_id"], name=doc["name"])
        self.reply(teams.render_institution(doc), 201)


class InstitutionHandler(SigningHandler):
    async def get(self, institution_id: str) -> None:
        """One institution with its teams."""
        await self.authenticate()
        doc = await self.roster.institutions.get(institution_id)
        found = await self.roster.teams.of_institution(institution_id)
        self.reply({**teams.render_institution(doc), "teams": [teams.render_team(t) for t in found]})


class TeamsHandler(SigningHandler):
    query_schema = {"get": {"institution_id": Id(), **PAGE}}
    body_schema = {"post": TEAM}

    async def get(self) -> None:
        """List teams (residents see all, to choose one; staff their institution's; supervisors their region's)."""
        user = await self.authenticate()
        docs, cursor = await self.roster.teams.page(user, institution_id=self.get_query_argument("institution_id", ""),
                                                    limit=self.limit(), cursor=self.get_query_argument("cursor", None))
        self.reply_page([teams.render_team(d) for d in docs], cursor)

    async def post(self) -> None:
        """Create a team: institution, name, contact, specialty, members with their work type, leader."""
        user = await self.authenticate()
        team = await self.roster.teams.create(user, self.json_body())
        await self.audit("signing.team_create", team["_id"], members=team["members"], leader=team["leader"])
        self.reply(teams.render_team(team, await self.hub.accounts.find_users(team["members"])), 201)


class TeamHandler(SigningHandler):
    body_schema = {"patch": TEAM_EDIT}

    async def get(self, team_id: str) -> None:
        """A team's profile: institution, contact, specialty, leader and members."""
        await self.authenticate()
        team = await self.roster.teams.get(team_id)
        self.reply(teams.render_team(team, await self.hub.accounts.find_users(team["members"])))

    async def patch(self, team_id: str) -> None:
        """Change a team's details, members or leader; member and leader changes are kept in its history."""
        user = await self.authenticate()
        team = await self.roster.teams.get(team_id)
        updated = await self.roster.teams.update(user, team, self.json_body())
        await self.audit("signing.team_update", team_id, members=updated["members"], leader=updated["leader"])
        self.reply(teams.render_team(updated, await self.hub.accounts.find_users(updated["members"])))


class TeamHistoryHandler(SigningHandler):
    query_schema = page_query()

    async def get(self, team_id: str) -> None:
        """A team's adjustment history (调整记录): every change of leader or members, newest first."""
        user = await self.authenticate()
        team = await self.roster.teams.get(team_id)
        docs, cursor = await self.roster.teams.history(user, team, limit=self.limit(),
                                                       cursor=self.get_query_argument("cursor", None))
        self.reply_page([teams.render_history(d) for d in docs], cursor)


class StaffHandler(SigningHandler):
    query_schema = {"get": {"institution_id": Id(), "team_id": Id(), **PAGE}}
    body_schema = {"post": STAFF}

    async def get(self) -> None:
        """List staff of an institution or team: staff see their institution's, supervisors those of their region.

        ``?institution_id=`` and ``?team_id=`` narrow the list within that scope."""
        user = await self.authenticate()
        require_role(user, *self.roster.scopes.STAFF_ROLES)
        docs, cursor = await self.roster.staff.page(
            user, institution_id=self.get_query_argument("institution_id", ""),
            team_id=self.get_query_argument("team_id", ""), limit=self.limit(),
            cursor=self.get_query_argument("cursor", None))
        self.reply_page([teams.render_staff(d) for d in docs], cursor)

    async def post(self) -> None:
        """Create a staff account (an institution admin for their institution; a sysadmin any, supervisors too)."""
        user = await self.authenticate()
        require_role(user, "admin", "sysadmin")
        created = await self.roster.staff.create(user, self.json_body())
        await self.audit("signing.staff_create", created["_id"], role=created["role"],
                         institution_id=created.get("institution_id"))
        self.reply(teams.render_staff(created), 201)


class DoctorHandler(SigningHandler):
    async def get(self, user_id: str) -> None:
        """A doctor's public profile and team (what a resident sees before applying)."""
        await self.authenticate()
        doctor = await self.hub.accounts.get_user(user_id)
        if doctor["role"] not in self.roster.scopes.TEAM_ROLES:
            raise InvalidInput("该用户不是家庭医生团队成员", field="id")
        team = await self.roster.teams.find(doctor.get("team_id"))
        self.reply({**teams.render_staff(doctor), "team": teams.render_team(team) if team else None})


class PackagesHandler(SigningHandler):
    body_schema = {"post": PACKAGE}

    async def get(self) -> None:
        """List service packages (basic and special) with their items and default term."""
        await self.authenticate()
        self.reply_page([render_package(d) for d in await self.roster.packages.enabled()], None)

    async def post(self) -> None:
        """Create a service package (institution admin, sysadmin)."""
        user = await self.authenticate()
        require_role(user, "admin", "sysadmin")
        doc = await self.roster.packages.create(self.json_body(), self.hub.config["signing.max_term_years"])
        await self.audit("signing.package_create", doc["_id"], name=doc["name"])
        self.reply(render_package(doc), 201)


# -- residents -------------------------------------------------------------------------------------------------

class ResidentsHandler(SigningHandler):
    query_schema = {"get": {**RESIDENT_QUERY, **PAGE, "with_counts": Bool()}}
    body_schema = {"post": NEW_RESIDENT}

    async def get(self) -> None:
        """List residents in scope, with filters and keyword search (numbers masked).

        Filters: region, village, household, team_id, doctor_id, id_number, name, phone, address, status, tag,
        key_population; ``q`` searches name and address. ``with_counts=true`` adds ``counts`` (residents per
        status class, the filters but ``status`` applied) and ``total`` (of the whole filtered list), for the status
        tabs and the pager. A number finds a resident only whole (``id_number``,
        ``phone``, or a whole number as ``q``): such a lookup is audited and limited per user
        (``signing.lookup_max`` per ``signing.lookup_window_secs``, then 429 ``rate_limited``)."""
        user = await self.authenticate()
        require_role(user, *self.roster.scopes.STAFF_ROLES)
        cursor = self.get_query_argument("cursor", None)
        args = self.args(RESIDENT_FILTERS)
        numbers = await self.admit_lookup(user, whole_numbers(args))
        docs, cursor = await self.roster.residents.page(user, args, limit=self.limit(), cursor=cursor)
        await lookups.record(self.hub, user, numbers, [d["_id"] for d in docs], address=self.address,
                             target="residents")
        if self.get_query_argument("with_counts", "") not in ("true", "1"):
            self.reply_page(await self.render_residents(docs), cursor)
            return
        counts = await self.roster.residents.status_counts(user, args)
        total = counts[args["status"]] if args.get("status") else sum(counts.values())
        self.reply({"items": await self.render_residents(docs), "next_cursor": cursor, "counts": counts,
                    "total": total})

    async def post(self) -> None:
        """Add a resident to the roster (team staff, institution admin, sysadmin) without signing them."""
        user = await self.authenticate()
        require_role(user, *self.roster.scopes.TEAM_ROLES, "admin", "sysadmin")
        doc = await self.roster.residents.add(user, self.json_body())
        await self.audit("signing.resident_create", doc["_id"], village=doc["village"])
        self.reply(await self.render_one(user, doc), 201)


class ResidentHandler(SigningHandler):
    body_schema = {"patch": RESIDENT_EDIT}

    async def get(self, resident_id: str) -> None:
        """One resident with their signings; numbers whole only for the managing account and the holding team."""
        user = await self.authenticate()
        doc = await self.visible_resident(user, resident_id)
        history = await self.signings.history_of(resident_id)
        whole = self.roster.scopes.shows_whole_numbers(user, doc)
        self.reply({**await self.render_one(user, doc),
                    "signings": [signings.render_signing(s, whole=whole) for s in history]})

    async def patch(self, resident_id: str) -> None:
        """Edit a resident's details (name, phone, address, village, household, key populations, diseases)."""
        user = await self.authenticate()
        doc = await self.roster.residents.get(resident_id)
        self.roster.scopes.require_edit_resident(user, doc)
        updated = await self.roster.residents.update(doc, self.json_body())
        await self.audit("signing.resident_update", resident_id, fields=sorted(self.json_body()))
        self.reply(await self.render_one(user, updated))


class ResidentTagsHandler(SigningHandler):
    body_schema = {"put": tags_body()}

    async def put(self, resident_id: str) -> None:
        """Set a resident's tags (``{"tags": [tag ids]}``)."""
        user = await self.authenticate()
        self.roster.scopes.require_tag_user(user)
        doc = await self.visible_resident(user, resident_id)
        wanted = self.json_body().get("tags")
        updated = await self.roster.residents.set_tags(doc, wanted)
        await self.audit("signing.resident_tags", resident_id, tags=wanted)
        self.reply(await self.render_one(user, updated))


class RefusalHandler(SigningHandler):
    body_schema = {"post": REASON}

    async def post(self, resident_id: str) -> None:
        """Record that the resident refused to sign (拒签), with a reason."""
        user = await self.authenticate()
        scopes.require_signing_staff(user)
        doc = await self.visible_resident(user, resident_id)
        record = await self.signings.refuse(self.context(user), doc, reason_text(self.json_body()))
        self.reply(signings.render_signing(record), 201)


class HouseholdsHandler(SigningHandler):
    query_schema = {"get": {"village": regions_code(required=True), **PAGE}}

    async def get(self) -> None:
        """The households of a village with their members and statuses (for picking residents to sign), paged.

        ``?village=`` (12-digit code), ``?limit=`` (residents per page, default 20, max 200) and ``?cursor=``:
        households in order of their number, members in order within; a household cut by a page boundary goes on
        at the top of the next page under the same ``household``. Numbers masked."""
        user = await self.authenticate()
        require_role(user, *self.roster.scopes.STAFF_ROLES)
        village = regions.check_code(self.get_query_argument("village", ""), "village")
        docs, cursor = await self.roster.residents.household_members(user, village, limit=self.limit(),
                                                                     cursor=self.get_query_argument("cursor", None))
        self.reply_page(residents.group_households(await self.render_residents(docs)), cursor)


class ResidentExportHandler(SigningHandler):
    query_schema = {"get": RESIDENT_QUERY}
    reply_types = {"get": (XLSX,)}

    async def get(self) -> None:
        """Export the filtered residents as .xlsx (numbers masked, an age for the birth date; at most 20,000 rows).

        The filters of the resident list; a lookup by a whole number counts against the same limit."""
        user = await self.authenticate()
        require_role(user, *self.roster.scopes.STAFF_ROLES)
        args = self.args(RESIDENT_FILTERS)
        numbers = await self.admit_lookup(user, whole_numbers(args))
        docs = await self.roster.residents.export(user, args, MAX_EXPORT_ROWS)
        await lookups.record(self.hub, user, numbers, [d["_id"] for d in docs], address=self.address,
                             target="residents")
        rows = await self.render_residents(docs)
        await self.audit("signing.resident_export", "residents", count=len(rows), filters=sorted(args))
        # up to MAX_EXPORT_ROWS rows take seconds to write: off the loop, which serves every socket meanwhile
        self.reply_xlsx(await asyncio.to_thread(imports.residents_bytes, rows), "居民名单.xlsx")


# -- the family an account manages --------------------------------------------------------------------------

class FamilyHandler(SigningHandler):
    body_schema = {"post": FAMILY_MEMBER}

    async def get(self) -> None:
        """The family members this resident account manages, each with their signing state (numbers masked, as in
        every list; ``GET /api/signing/family/{id}`` shows one member whole)."""
        user = await self.authenticate()
        require_role(user, "resident")
        docs = await self.roster.residents.managed_by(user["_id"])
        holders = await self.signings.holding([d["_id"] for d in docs])
        names = await self.roster.tags.names(docs)
        self.reply_page([{**residents.render_resident(d, tags=names),
                          "signing": signings.render_signing(holders[d["_id"]])
                          if d["_id"] in holders else None} for d in docs], None)

    async def post(self) -> None:
        """Add a family member (name, ID number, relation, village, …) to this account.

        A person the roster does not hold yet is created and managed at once (201, the record). A person it
        already holds (same ID number and name, managed by nobody) is not attached: the reply is 202 with a
        pending link request (``status: pending``) that shows nothing of the record. The staff who may edit the
        record confirm it after checking with the person (``POST /api/signing/family/links/{id}/approve``); the
        account gets a ``family_link`` notice either way. A record another account manages: 409."""
        user = await self.authenticate()
        require_role(user, "resident")
        if await self.links.family_size(user["_id"]) >= links.FAMILY_MAX:
            raise InvalidInput(f"家庭成员最多 {links.FAMILY_MAX} 人（含待确认的关联申请）")
        fields, existing = await self.roster.residents.check_family_member(user, self.json_body())
        if existing is not None:
            link = await self.links.request_link(self.context(user), existing, fields["relation"])
            self.reply(links.render_for_account(link), 202)
            return
        doc = await self.roster.residents.add_family_member(user, fields)
        await self.audit("signing.family_add", doc["_id"], relation=doc.get("relation"))
        self.reply(residents.render_resident(doc, whole=True), 201)


class FamilyLinksHandler(SigningHandler):
    query_schema = {"get": {"status": Enum(values=links.STATES), **PAGE}}

    async def get(self) -> None:
        """Family link requests (关联申请), ``?status=pending|confirmed|rejected|withdrawn|superseded``, newest first.

        A resident account sees its own requests (any state unless ``status``; the record's id only once
        confirmed). Staff see the requests, pending by default, for records they may edit: the holding team's
        doctors, assistants and leader, the institution admin, for a record no team holds the staff of its
        area; a sysadmin all. Supervisors decide nothing here (403)."""
        user = await self.authenticate()
        docs, cursor = await self.links.list_links(user, self.get_query_argument("status", ""),
                                              limit=self.limit(), cursor=self.get_query_argument("cursor", None))
        self.reply_page([links.render(user, d) for d in docs], cursor)


class FamilyLinkAccess(SigningHandler):
    async def visible_link(self, user: dict[str, Any], link_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request and its record: the requesting account's own, or staff who may edit the record."""
        link = await self.links.get_link(link_id)
        resident = await self.roster.residents.get(link["resident_id"])
        if user["role"] == "resident":
            if link["account_id"] != user["_id"]:
                raise Forbidden("无权查看该关联申请", link_id=link_id)
        else:
            require_role(user, *links.EDITOR_ROLES, "sysadmin")
            self.roster.scopes.require_edit_resident(user, resident)
        return link, resident


class FamilyLinkHandler(FamilyLinkAccess):
    async def get(self, link_id: str) -> None:
        """One family link request (the requesting account, or the staff who may decide it)."""
        user = await self.authenticate()
        link, _ = await self.visible_link(user, link_id)
        self.reply(links.render(user, link))

    async def delete(self, link_id: str) -> None:
        """The requesting account withdraws its pending request (409 ``invalid_state`` once decided)."""
        user = await self.authenticate()
        require_role(user, "resident")
        link, _ = await self.visible_link(user, link_id)
        self.reply(links.render(user, await self.links.withdraw(self.context(user), link)))


class FamilyLinkDecisionHandler(FamilyLinkAccess):
    body_schema = {"post": Body("family_link", note=Text(200, multiline=True, screen=SCREEN, nullable=True))}

    async def post(self, link_id: str, action: str) -> None:
        """Confirm or reject a pending family link request, ``{note?}`` (staff who may edit the record).

        Confirm: after checking with the person that they want this account to manage their record; the record
        is attached to the account (which then sees it whole), other accounts' pending requests for it are
        superseded. Reject: nothing is attached. Audited (``signing.family_link_confirm`` / ``_reject``); the
        account gets a ``family_link`` notice. Another team, another institution, a supervisor: 403; decided
        already: 409 ``invalid_state``."""
        user = await self.authenticate()
        require_role(user, *links.EDITOR_ROLES, "sysadmin")
        link, resident = await self.visible_link(user, link_id)
        note = self.json_body().get("note") or None  # screened at the edge (body_schema)
        updated = await self.links.decide(self.context(user), link, resident, confirm=action == "approve",
                                          note=note)
        self.reply(links.render(user, updated))


class FamilyMemberHandler(SigningHandler):
    body_schema = {"patch": RESIDENT_EDIT}

    async def get(self, resident_id: str) -> None:
        """One family member of this account, numbers whole, with their signing in force or pending."""
        user = await self.authenticate()
        require_role(user, "resident")
        doc = await self.visible_resident(user, resident_id)
        holder = (await self.signings.holding([resident_id])).get(resident_id)
        self.reply({**await self.render_one(user, doc),
                    "signing": signings.render_signing(holder, whole=True) if holder else None})

    async def patch(self, resident_id: str) -> None:
        """Edit a family member's details."""
        user = await self.authenticate()
        require_role(user, "resident")
        doc = await self.visible_resident(user, resident_id)
        updated = await self.roster.residents.update(doc, self.json_body())
        await self.audit("signing.family_update", resident_id, fields=sorted(self.json_body()))
        self.reply(residents.render_resident(updated, whole=True))

    async def delete(self, resident_id: str) -> None:
        """Remove a family member from this account (the roster keeps a record that was ever signed)."""
        user = await self.authenticate()
        require_role(user, "resident")
        doc = await self.visible_resident(user, resident_id)
        outcome = await self.signings.remove_family_member(doc)
        await self.audit("signing.family_remove", resident_id, outcome=outcome)
        self.reply({"id": resident_id, "outcome": outcome})


# -- signings ----------------------------------------------------------------------------------------------

class ApplicationsHandler(SigningHandler):
    body_schema = {"post": APPLICATION}

    async def post(self) -> None:
        """A resident account applies to sign a family member with a team and doctor.

        ``{resident_id, team_id, doctor_id, package_id?, term_years?}``; the application waits for review."""
        user = await self.authenticate()
        require_role(user, "resident")
        body = self.json_body()
        resident = await self.visible_resident(user, signings.required_id(body, "resident_id"))
        team = await self.roster.teams.get(signings.required_id(body, "team_id"))
        doctor = await self.hub.accounts.get_user(signings.required_id(body, "doctor_id"))
        if doctor["role"] not in scopes.SIGNING_ROLES:
            raise InvalidInput("请选择家庭医生", field="doctor_id")
        signing = await self.signings.open_signing(
            self.context(user), resident, team=team, doctor=doctor, mode="apply", pending=True,
            term_years=body.get("term_years"), package_id=body.get("package_id"))
        self.reply(signings.render_signing(signing, whole=True), 201)


class SigningsHandler(SigningHandler):
    query_schema = {"get": {**SIGNING_QUERY, **PAGE, "with_counts": Bool()}}
    body_schema = {"post": SIGNING_ENTRY}

    async def get(self) -> None:
        """The review center and signing lists, by state, doctor, team, mode, ID number or name.

        ``status``: pending, approved (applications let through), rejected, active, cancelled, terminated,
        expired, refused (comma-separated for several). Newest first, numbers masked. ``id_number`` matches a
        whole number only and is a lookup (audited, limited per user like the resident list's).
        ``with_counts=true`` adds ``counts``: how many are pending, approved and rejected with the other filters
        (the review tabs)."""
        user = await self.authenticate()
        args = self.args(SIGNING_FILTERS)
        numbers = await self.admit_lookup(user, whole_numbers({"id_number": args.get("id_number", "")}))
        docs, cursor = await self.signings.list_signings(user, args,
                                                    limit=self.limit(), cursor=self.get_query_argument("cursor", None))
        await lookups.record(self.hub, user, numbers, sorted({d["resident_id"] for d in docs}), address=self.address,
                             target="signings")
        items = [signings.render_signing(d) for d in docs]
        if self.get_query_argument("with_counts", "") not in ("true", "1"):
            self.reply_page(items, cursor)
            return
        self.reply({"items": items, "next_cursor": cursor, "counts": await self.signings.review_counts(user, args)})

    async def post(self) -> None:
        """A doctor signs a resident on the spot (entry mode).

        ``{resident_id}`` from the roster, or ``{resident: {details}}`` entered now; ``package_id``,
        ``term_years`` and ``auto_renew`` default to the standard package's term with auto-renewal."""
        user = await self.authenticate()
        scopes.require_signing_staff(user)
        signing = await self.signings.enter(self.context(user), self.json_body())
        self.reply(signings.render_signing(signing, whole=True), 201)


class SigningBatchHandler(SigningHandler):
    body_schema = {"post": batch_body(MAX_BATCH)}

    async def post(self) -> None:
        """A doctor signs the residents ticked in the roster at once (pick mode).

        ``{resident_ids: [...]}``; each one is signed or reported with the reason it was not."""
        user = await self.authenticate()
        scopes.require_signing_staff(user)
        body = self.json_body()
        ids = tags.check_ids(body.get("resident_ids"), "resident_ids")
        if len(ids) > MAX_BATCH:
            raise InvalidInput(f"一次最多签约 {MAX_BATCH} 人", field="resident_ids")
        done, failed = await self.signings.sign_many(self.context(user), ids, body)
        signed = [signings.render_signing(d) for d in done]
        self.reply({"signed": signed, "failed": failed})


class SigningProgressHandler(SigningHandler):
    query_schema = {"get": {"doctor_id": Id()}}

    async def get(self) -> None:
        """A doctor's signing progress: how many of their signings are in each state.

        ``?doctor_id=`` (default: the caller), within the caller's scope."""
        user = await self.authenticate()
        require_role(user, *self.roster.scopes.STAFF_ROLES)
        doctor_id = self.get_query_argument("doctor_id", "") or user["_id"]
        query = {"$and": [scopes.signing_filter(user), {"doctor_id": doctor_id}]}
        self.reply({"doctor_id": doctor_id, "counts": await self.signings.progress(query)})


class SigningDetailHandler(SigningHandler):
    async def get(self, signing_id: str) -> None:
        """One signing (numbers whole for the managing account and the team)."""
        user = await self.authenticate()
        signing = await self.visible_signing(user, signing_id)
        resident = await self.roster.residents.find(signing["resident_id"]) or {}
        whole = bool(resident) and self.roster.scopes.shows_whole_numbers(user, resident)
        self.reply({**signings.render_signing(signing, whole=whole), "terms": [
            {"start": iso(t["start"]), "end": iso(t["end"]), "term_years": t["term_years"]}
            for t in signing.get("terms", [])]})


class SigningActionHandler(SigningHandler):
    """``POST /api/signing/signings/{id}/{approve|reject|cancel|renew|terminate}``."""

    body_schema = {"post": ACTION_BODY}

    async def post(self, signing_id: str, action: str) -> None:
        """Act on a signing: approve, reject, cancel, renew or terminate.

        approve ``{term_years?}`` and reject ``{reason}``: a doctor or leader of the team; cancel: the applicant
        account; renew ``{term_years?}``: the team, or the resident account once 待续签; terminate (解约)
        ``{reason}``: the team."""
        user = await self.authenticate()
        signing = await self.visible_signing(user, signing_id)
        body = self.json_body()
        if action == "cancel":
            require_role(user, "resident")
            result = await self.signings.cancel(self.context(user), signing)
        elif action == "renew" and user["role"] == "resident":
            result = await self.signings.renew_by_resident(self.context(user), signing)
        else:
            scopes.require_team_member(user, signing)
            if action == "approve":
                result = await self.signings.approve(self.context(user), signing, term_years=body.get("term_years"))
            elif action == "reject":
                result = await self.signings.reject(self.context(user), signing, reason_text(body))
            elif action == "renew":
                result = await self.signings.renew(self.context(user), signing, term_years=body.get("term_years"))
            else:
                result = await self.signings.terminate(self.context(user), signing, reason_text(body))
        self.reply(signings.render_signing(result))


# -- unable to sign ----------------------------------------------------------------------------------------

class UnableRequestsHandler(SigningHandler):
    query_schema = {"get": {"status": Enum(values=signings.UNABLE_STATES), **PAGE}}
    body_schema = {"post": UNABLE_REQUEST}

    async def get(self) -> None:
        """Unable-to-sign (无法签约) requests by ``?status=pending|approved|rejected|lifted``.

        Supervisors see their region's, staff their team's or institution's."""
        user = await self.authenticate()
        docs, cursor = await self.signings.page_unable(user, self.get_query_argument("status", ""), limit=self.limit(),
                                                       cursor=self.get_query_argument("cursor", None))
        self.reply_page([signings.render_unable(d) for d in docs], cursor)

    async def post(self) -> None:
        """A doctor enters that a resident cannot sign (服刑, 死亡, 外迁, …) with a reason; a supervisor reviews."""
        user = await self.authenticate()
        scopes.require_signing_staff(user)
        body = self.json_body()
        resident = await self.visible_resident(user, signings.required_id(body, "resident_id"))
        doc = await self.signings.request_unable(self.context(user), resident, body.get("kind"), reason_text(body))
        self.reply(signings.render_unable(doc), 201)


class UnableReviewHandler(SigningHandler):
    body_schema = {"post": UNABLE_NOTE}

    async def post(self, request_id: str, action: str) -> None:
        """A supervisor approves or rejects an unable-to-sign request (``{note}``, required to reject)."""
        user = await self.authenticate()
        request = await self.signings.get_unable_request(request_id)
        scopes.require_unable_reviewer(user, request)
        body = self.json_body()
        note = reason_text(body, "note") if action == "reject" else optional_text(body, "note", 200)
        doc = await self.signings.review_unable(self.context(user), request, approved=action == "approve", note=note)
        self.reply(signings.render_unable(doc))


class UnableLiftHandler(SigningHandler):
    body_schema = {"post": REASON}

    async def post(self, request_id: str) -> None:
        """Lift an approved unable-to-sign (撤销无法签约) with ``{reason}``: a supervisor of the resident's region.

        The request becomes ``lifted``; the resident's status is derived again (未签约, or 拒签 after a refusal)
        and they may be signed again. Audited as ``signing.unable_lift``; publishes ``unable_to_sign.lifted``."""
        user = await self.authenticate()
        require_role(user, *scopes.UNABLE_REVIEWERS)  # before the lookup: other roles learn nothing of the id
        request = await self.signings.get_unable_request(request_id)
        resident = await self.roster.residents.get(request["resident_id"])
        scopes.require_unable_lifter(user, resident)
        doc = await self.signings.lift_unable(self.context(user), request, resident, reason_text(self.json_body()))
        self.reply(signings.render_unable(doc))


# -- tags ----------------------------------------------------------------------------------------------------

class TagsHandler(SigningHandler):
    body_schema = {"post": tag_body(required=True)}

    async def get(self) -> None:
        """List tags with how many residents in your scope carry each."""
        user = await self.authenticate()
        self.roster.scopes.require_tag_user(user)
        docs = await self.roster.tags.all()
        counts = await self.roster.tags.counts(self.roster.scopes.resident_filter(user))
        self.reply_page([tags.render_tag(d, counts.get(d["_id"], 0)) for d in docs], None)

    async def post(self) -> None:
        """Create a tag (team leader, institution admin, sysadmin)."""
        user = await self.authenticate()
        self.roster.scopes.require_tag_admin(user)
        doc = await self.roster.tags.create(self.json_body()["name"])
        await self.audit("signing.tag_create", doc["_id"], name=doc["name"])
        self.reply(tags.render_tag(doc), 201)


class TagHandler(SigningHandler):
    body_schema = {"patch": tag_body(required=True)}

    async def patch(self, tag_id: str) -> None:
        """Rename a tag."""
        user = await self.authenticate()
        self.roster.scopes.require_tag_admin(user)
        tag = await self.roster.tags.get(tag_id)
        doc = await self.roster.tags.rename(tag, self.json_body()["name"])
        await self.audit("signing.tag_rename", tag_id, old=tag["name"], new=doc["name"])
        self.reply(tags.render_tag(doc))

    async def delete(self, tag_id: str) -> None:
        """Delete a tag and take it off every resident."""
        user = await self.authenticate()
        self.roster.scopes.require_tag_admin(user)
        tag = await self.roster.tags.get(tag_id)
        removed = await self.roster.tags.delete(tag)
        await self.audit("signing.tag_delete", tag_id, name=tag["name"], residents=removed)
        self.reply({"id": tag_id, "removed_from": removed})


class TagApplyHandler(SigningHandler):
    body_schema = {"post": tag_apply_body()}

    async def post(self, tag_id: str) -> None:
        """Apply a tag to many residents at once (``{resident_ids, remove: false}``); all must be in scope."""
        user = await self.authenticate()
        self.roster.scopes.require_tag_user(user)
        await self.roster.tags.get(tag_id)
        body = self.json_body()
        ids = tags.check_ids(body.get("resident_ids"), "resident_ids")
        remove = body.get("remove", False)
        if not isinstance(remove, bool):
            raise InvalidInput("remove 应为 true 或 false", field="remove")
        changed = await self.roster.tags.apply(tag_id, self.roster.scopes.resident_filter(user), ids, remove=remove)
        await self.audit("signing.tag_" + ("remove" if remove else "apply"), tag_id, residents=len(ids))
        self.reply({"id": tag_id, "matched": len(ids), "changed": changed})


# -- Excel import ----------------------------------------------------------------------------------------------

class ImportTemplateHandler(SigningHandler):
    reply_types = {"get": (XLSX,)}

    async def get(self) -> None:
        """Download the .xlsx template of the signing import."""
        await self.authenticate()
        self.reply_xlsx(imports.template_bytes(), "签约数据导入模板.xlsx")


class ImportsHandler(SigningHandler):
    body_types = {"post": (XLSX,)}
    query_schema = {"get": PAGE, "post": {"filename": Code(pattern=r"^[^/\\]{1,200}$", most=200),
                                          "team_id": Id(description="机构管理员导入时：签约团队"),
                                          "doctor_id": Id(description="机构管理员导入时：签约医生")}}

    @classmethod
    def body_limit(cls, hub: Any) -> int:
        return hub.config["signing.import_max_bytes"]

    async def get(self) -> None:
        """The imports of the caller's team (an institution admin: of its institution), newest first."""
        user = await self.authenticate()
        docs, cursor = await self.imports.page_imports(scopes.import_filter(user), limit=self.limit(),
                                                  cursor=self.get_query_argument("cursor", None))
        self.reply_page([imports.render_import(d) for d in docs], cursor)

    async def post(self) -> None:
        """Upload an .xlsx of signing data to import as the caller's signings (202; runs in the background).

        The body is the file (``Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``),
        ``?filename=``. A doctor or team leader imports as their own team's signings; an institution admin names a
        team of the institution and one of its doctors (``?team_id=&doctor_id=``). Poll the import for progress,
        then download its error report."""
        user = await self.authenticate()
        team, doctor = await self.import_target(user)
        if len(self.request.body) > self.hub.config["signing.import_max_bytes"]:
            raise InvalidInput("文件过大", field="file", reason="too_large")
        if not self.request.body:
            raise InvalidInput("请上传 .xlsx 文件", field="file", reason="missing")
        job = await self.imports.start_import(self.context(user), team, self.request.body,
                                              self.get_query_argument("filename", "import.xlsx"), doctor=doctor)
        self.reply(imports.render_import(job), 202)

    async def import_target(self, user: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The team and doctor the rows are signed with."""
        if user["role"] != "admin":
            return await self.roster.teams.get(scopes.require_signing_staff(user)), user
        team = await self.roster.teams.get(signings.required_id(self.args(("team_id",)), "team_id"))
        doctor = await self.hub.accounts.get_user(signings.required_id(self.args(("doctor_id",)), "doctor_id"))
        scopes.require_import_target(user, team, doctor)
        return team, doctor


class ImportHandler(SigningHandler):
    async def visible_import(self, import_id: str) -> dict[str, Any]:
        user = await self.authenticate()
        return await self.imports.get_import(user, import_id)

    async def get(self, import_id: str) -> None:
        """An import's progress and counts (total, processed, imported, unchanged, failed)."""
        self.reply(imports.render_import(await self.visible_import(import_id)))


class ImportErrorsHandler(ImportHandler):
    query_schema = page_query()

    async def get(self, import_id: str) -> None:
        """An import's per-row errors (JSON, paged by row)."""
        await self.visible_import(import_id)
        docs, cursor = await self.imports.page_errors(import_id, limit=self.limit(),
                                                 cursor=self.get_query_argument("cursor", None))
        self.reply_page([imports.render_error(d) for d in docs], cursor)


class ImportReportHandler(ImportHandler):
    reply_types = {"get": (XLSX,)}

    async def get(self, import_id: str) -> None:
        """Download an import's error report as .xlsx (row, name, masked ID number, column, error)."""
        await self.visible_import(import_id)
        docs = await self.imports.all_errors(import_id)
        self.reply_xlsx(imports.report_bytes(docs), f"导入错误报告-{import_id}.xlsx")


ID = r"([^/]+)"
ROUTES = [
    (r"/api/signing/regions", RegionsHandler),
    (r"/api/signing/institutions", InstitutionsHandler),
    (rf"/api/signing/institutions/{ID}", InstitutionHandler),
    (r"/api/signing/teams", TeamsHandler),
    (rf"/api/signing/teams/{ID}", TeamHandler),
    (rf"/api/signing/teams/{ID}/history", TeamHistoryHandler),
    (r"/api/signing/staff", StaffHandler),
    (rf"/api/signing/doctors/{ID}", DoctorHandler),
    (r"/api/signing/packages", PackagesHandler),
    (r"/api/signing/residents", ResidentsHandler),
    (r"/api/signing/residents/export.xlsx", ResidentExportHandler),
    (rf"/api/signing/residents/{ID}", ResidentHandler),
    (rf"/api/signing/residents/{ID}/tags", ResidentTagsHandler),
    (rf"/api/signing/residents/{ID}/refusal", RefusalHandler),
    (r"/api/signing/households", HouseholdsHandler),
    (r"/api/signing/family", FamilyHandler),
    (r"/api/signing/family/links", FamilyLinksHandler),  # before family/{id}, which "links" would match
    (rf"/api/signing/family/links/{ID}", FamilyLinkHandler),
    (r"/api/signing/family/links/(?P<link_id>[^/]+)/(?P<action>approve|reject)", FamilyLinkDecisionHandler),
    (rf"/api/signing/family/{ID}", FamilyMemberHandler),
    (r"/api/signing/applications", ApplicationsHandler),
    (r"/api/signing/signings", SigningsHandler),
    (r"/api/signing/signings/batch", SigningBatchHandler),
    (r"/api/signing/signings/progress", SigningProgressHandler),
    (rf"/api/signing/signings/{ID}", SigningDetailHandler),
    (r"/api/signing/signings/(?P<signing_id>[^/]+)/(?P<action>approve|reject|cancel|renew|terminate)",
     SigningActionHandler),
    (r"/api/signing/unable-requests", UnableRequestsHandler),
    (r"/api/signing/unable-requests/(?P<request_id>[^/]+)/(?P<action>approve|reject)", UnableReviewHandler),
    (r"/api/signing/unable-requests/(?P<request_id>[^/]+)/lift", UnableLiftHandler),
    (r"/api/signing/tags", TagsHandler),
    (rf"/api/signing/tags/{ID}", TagHandler),
    (rf"/api/signing/tags/{ID}/apply", TagApplyHandler),
    (r"/api/signing/imports/template.xlsx", ImportTemplateHandler),
    (r"/api/signing/imports", ImportsHandler),
    (rf"/api/signing/imports/{ID}", ImportHandler),
    (rf"/api/signing/imports/{ID}/errors", ImportErrorsHandler),
    (rf"/api/signing/imports/{ID}/errors.xlsx", ImportReportHandler),
]
