"""Institutions (卫生院 / 社区卫生服务中心), family-doctor teams with their adjustment history, and staff placement.

A staff member's institution and team live on their user document (``institution_id``, ``team_id``,
``work_type``); ``region`` there is the institution's region, the service area used by the scopes. The user
documents are the core's: the roster changes them only through ``hub.accounts`` (``place_staff``,
``assign_team``, ``create_user``).
"""

from __future__ import annotations

from typing import Any

from hub.errors import Conflict, Forbidden, InvalidInput
from hub.ids import iso, new_id, now
from hub.pages import page
from hub.roster import scopes
from hub.roster.checks import optional_text, required_text
from hub.roster.regions import Regions, check_code, within
from hub.store import get_by_id

INSTITUTION_KINDS = ("卫生院", "社区卫生服务中心")
WORK_TYPES = ("全科医生", "护士", "公卫医师", "家庭助理", "专科医生", "药师", "其他")
STAFF_ROLES_BY_ADMIN = ("doctor", "assistant", "team_leader", "admin")
STAFF_ROLES_BY_SYSADMIN = (*STAFF_ROLES_BY_ADMIN, "supervisor", "sysadmin")


# -- institutions --------------------------------------------------------------------------------------------

def new_institution(body: dict[str, Any], region: dict[str, Any]) -> dict[str, Any]:
    """The one constructor of an institution document (the region looked up by the caller)."""
    kind = body.get("kind")
    if kind not in INSTITUTION_KINDS:
        raise InvalidInput("机构类型应为 卫生院 或 社区卫生服务中心", field="kind")
    if region["level"] < 3:
        raise InvalidInput("机构所在区划应为区县、乡镇或村", field="region")
    return {"_id": new_id(), "name": required_text(body, "name", 60), "kind": kind, "region": region["_id"],
            "address": optional_text(body, "address", 200), "phone": optional_text(body, "phone", 30),
            "created_at": now()}


class Institutions:
    """Institutions (``institutions`` collection)."""

    def __init__(self, db: Any, regions: Regions) -> None:
        self.db = db
        self.regions = regions

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        required_text(body, "name", 60)
        if body.get("kind") not in INSTITUTION_KINDS:
            raise InvalidInput("机构类型应为 卫生院 或 社区卫生服务中心", field="kind")
        region = await self.regions.get(check_code(body.get("region"), "region"))
        doc = new_institution(body, region)
        if await self.db.institutions.find_one({"name": doc["name"]}, {"_id": 1}):
            raise Conflict("机构名称已存在", field="name")
        await self.db.institutions.insert_one(doc)
        return doc

    async def get(self, institution_id: str) -> dict[str, Any]:
        return await get_by_id(self.db.institutions, institution_id, "机构不存在")

    async def page(self, region: str | None, *, limit: int, cursor: str | None
                   ) -> tuple[list[dict[str, Any]], str | None]:
        """Institutions inside ``region`` (any when None), oldest first."""
        query = within("region", region) if region else {}
        return await page(self.db.institutions, query, limit=limit, cursor=cursor, newest_first=False)


def render_institution(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "name": doc["name"], "kind": doc["kind"], "region": doc["region"],
            "address": doc.get("address", ""), "phone": doc.get("phone", "")}


# -- staff ---------------------------------------------------------------------------------------------------

class Staff:
    """Staff accounts as the roster places them: created through ``hub.accounts``, listed by scope."""

    def __init__(self, accounts: Any, regions: Regions, institutions: Institutions) -> None:
        self.accounts = accounts
        self.regions = regions
        self.institutions = institutions

    async def create(self, actor: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """A staff account; an institution admin creates staff of their own institution only."""
        role = body.get("role")
        allowed = STAFF_ROLES_BY_SYSADMIN if actor["role"] == "sysadmin" else STAFF_ROLES_BY_ADMIN
        if role not in allowed:
            raise InvalidInput(f"角色应为 {' / '.join(allowed)}", field="role")
        extra: dict[str, Any] = {}
        region = ""
        if role == "supervisor":
            region = check_code(body.get("region"), "region")
            await self.regions.get(region)
        elif role != "sysadmin":
            institution_id = body.get("institution_id") or actor.get("institution_id")
            if not isinstance(institution_id, str):
                raise InvalidInput("institution_id 必填", field="institution_id")
            scopes.require_roster_admin(actor, institution_id)
            institution = await self.institutions.get(institution_id)
            region = institution["region"]
            work_type = body.get("work_type") or ("家庭助理" if role == "assistant" else "全科医生")
            if work_type not in WORK_TYPES:
                raise InvalidInput(f"工作类型应为 {' / '.join(WORK_TYPES)}", field="work_type")
            extra = {"institution_id": institution_id, "team_id": None, "work_type": work_type}
        for field in ("username", "password", "name"):
            if not isinstance(body.get(field), str) or not body[field].strip():
                raise InvalidInput(f"{field} 必填", field=field)
        phone = body.get("phone")
        if phone is not None and not isinstance(phone, str):
            raise InvalidInput("手机号格式不正确", field="phone")
        return await self.accounts.create_user(
            username=body["username"].strip(), password=body["password"], role=role, name=body["name"].strip()[:30],
            phone=phone or None, region=region, title=optional_text(body, "title", 30),
            profile=optional_text(body, "profile", 500), **extra)

    async def place(self, user_id: str, institution: dict[str, Any], *, work_type: str, title: str = "",
                    profile: str = "") -> None:
        """An existing account becomes staff of an institution (its team is set when a team takes it in)."""
        if work_type not in WORK_TYPES:
            raise InvalidInput(f"工作类型应为 {' / '.join(WORK_TYPES)}", field="work_type")
        await self.accounts.place_staff(user_id, institution_id=institution["_id"], region=institution["region"],
                                        work_type=work_type, title=title, profile=profile)

    async def page(self, user: dict[str, Any], *, institution_id: str = "", team_id: str = "", limit: int,
                   cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Team staff and institution admins the user may list (``scopes.staff_filter``), narrowed."""
        query: dict[str, Any] = {"$and": [{"role": {"$in": sorted(scopes.TEAM_ROLES | {"admin"})}},
                                          scopes.staff_filter(user)]}
        for field, value in (("institution_id", institution_id), ("team_id", team_id)):
            if value:
                query = {"$and": [query, {field: value}]}
        return await self.accounts.page_users(query, limit=limit, cursor=cursor)


def render_staff(user: dict[str, Any]) -> dict[str, Any]:
    """A staff member's public profile (no phone number: the team's contact is public instead)."""
    return {"id": user["_id"], "name": user["name"], "role": user["role"], "work_type": user.get("work_type"),
            "title": user.get("title", ""), "profile": user.get("profile", ""),
            "institution_id": user.get("institution_id"), "team_id": user.get("team_id")}


# -- teams ---------------------------------------------------------------------------------------------------

class Teams:
    """Family-doctor teams (``teams``) and their adjustment history (``team_history``); membership is also kept
    on each member's account (``team_id``, through ``hub.accounts``)."""

    def __init__(self, db: Any, accounts: Any, institutions: Institutions) -> None:
        self.db = db
        self.accounts = accounts
        self.institutions = institutions

    async def _check_members(self, institution_id: str, members: object, team_id: str | None
                             ) -> list[dict[str, Any]]:
        """``[{"user_id", "work_type"}]`` → the same, checked: staff of this institution, in no other team."""
        if not isinstance(members, list) or len(members) > 30:
            raise InvalidInput("members 应为成员列表（最多 30 人）", field="members")
        ids = [item.get("user_id") for item in members if isinstance(item, dict)]
        users = await self.accounts.find_users([i for i in ids if isinstance(i, str)])
        checked: list[dict[str, Any]] = []
        for item in members:
            user_id = item.get("user_id") if isinstance(item, dict) else None
            if not isinstance(user_id, str):
                raise InvalidInput("成员应为 {user_id, work_type}", field="members")
            user = users.get(user_id)
            if user is None or user["role"] not in scopes.TEAM_ROLES or user.get("institution_id") != institution_id:
                raise InvalidInput("成员应为本机构的医生、助理或团队长", field="members", user_id=user_id)
            if user.get("team_id") not in (None, team_id):
                raise Conflict("该成员已在其他团队", field="members", user_id=user_id)
            work_type = item.get("work_type") or user.get("work_type") or "全科医生"
            if work_type not in WORK_TYPES:
                raise InvalidInput(f"工作类型应为 {' / '.join(WORK_TYPES)}", field="members")
            if user_id not in {m["user_id"] for m in checked}:
                checked.append({"user_id": user_id, "name": user["name"], "work_type": work_type})
        return checked

    async def create(self, actor: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        institution_id = body.get("institution_id") or actor.get("institution_id")
        if not isinstance(institution_id, str):
            raise InvalidInput("institution_id 必填", field="institution_id")
        scopes.require_roster_admin(actor, institution_id)
        institution = await self.institutions.get(institution_id)
        team_id = new_id()
        members = await self._check_members(institution_id, body.get("members", []), team_id)
        leader = body.get("leader_id")
        if leader is not None and leader not in {m["user_id"] for m in members}:
            raise InvalidInput("团队长须是团队成员", field="leader_id")
        doc = {"_id": team_id, "name": required_text(body, "name", 60), "institution_id": institution_id,
               "institution": institution["name"], "region": institution["region"],
               "contact": optional_text(body, "contact", 60), "specialty": optional_text(body, "specialty", 300),
               "leader": leader, "members": [m["user_id"] for m in members], "member_info": members,
               "created_at": now(), "updated_at": now()}
        await self.db.teams.insert_one(doc)
        await self.accounts.assign_team(team_id, added=doc["members"], removed=[])
        await self._record_history(actor, doc, before=None)
        return doc

    async def get(self, team_id: str) -> dict[str, Any]:
        return await get_by_id(self.db.teams, team_id, "团队不存在")

    async def find(self, team_id: str | None) -> dict[str, Any] | None:
        """The team, or None (no id, or gone)."""
        return await self.db.teams.find_one({"_id": team_id}) if team_id else None

    async def of_institution(self, institution_id: str) -> list[dict[str, Any]]:
        return await self.db.teams.find({"institution_id": institution_id}).to_list(200)

    async def page(self, user: dict[str, Any], *, institution_id: str = "", limit: int, cursor: str | None
                   ) -> tuple[list[dict[str, Any]], str | None]:
        """Teams the user may list (``scopes.team_filter``), optionally of one institution, oldest first."""
        query = dict(scopes.team_filter(user))
        if institution_id:
            query = {"$and": [query, {"institution_id": institution_id}]}
        return await page(self.db.teams, query, limit=limit, cursor=cursor, newest_first=False)

    async def members_of(self, team_ids: list[str]) -> list[str]:
        """Every member of these teams, team by team."""
        teams = await self.db.teams.find({"_id": {"$in": team_ids}}, {"members": 1}).to_list(len(team_ids))
        return [member for team in teams for member in team.get("members", [])]

    async def any_has_member(self, team_ids: list[str], user_id: str) -> bool:
        return await self.db.teams.find_one({"_id": {"$in": team_ids}, "members": user_id}, {"_id": 1}) is not None

    async def update(self, actor: dict[str, Any], team: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Details, members and leader; a change of leader or members leaves an adjustment-history entry."""
        scopes.require_team_editor(actor, team)
        changes: dict[str, Any] = {}
        if "name" in body:
            changes["name"] = required_text(body, "name", 60)
        for field, most in (("contact", 60), ("specialty", 300)):
            if field in body:
                changes[field] = optional_text(body, field, most)
        members = team.get("member_info", [])
        if "members" in body:
            members = await self._check_members(team["institution_id"], body["members"], team["_id"])
            changes["members"] = [m["user_id"] for m in members]
            changes["member_info"] = members
        if "leader_id" in body:
            if actor["role"] == "team_leader":
                raise Forbidden("团队长不能更换团队长")
            changes["leader"] = body["leader_id"]
        leader = changes.get("leader", team.get("leader"))
        if leader is not None and leader not in {m["user_id"] for m in members}:
            raise InvalidInput("团队长须是团队成员", field="leader_id")
        if not changes:
            raise InvalidInput("没有要修改的内容")
        changes["updated_at"] = now()
        await self.db.teams.update_one({"_id": team["_id"]}, {"$set": changes})
        updated = {**team, **changes}
        old, new = set(team.get("members", [])), set(updated["members"])
        await self.accounts.assign_team(team["_id"], added=sorted(new - old), removed=sorted(old - new))
        if old != new or team.get("leader") != updated.get("leader"):
            await self._record_history(actor, updated, before=team)
        return updated

    async def _record_history(self, actor: dict[str, Any], team: dict[str, Any], before: dict[str, Any] | None
                              ) -> None:
        old = set(before.get("members", [])) if before else set()
        new = set(team["members"])
        await self.db.team_history.insert_one({
            "_id": new_id(), "team_id": team["_id"], "at": now(), "by": actor["_id"], "by_name": actor["name"],
            "kind": "created" if before is None else "adjusted",
            "leader_from": before.get("leader") if before else None, "leader_to": team.get("leader"),
            "added": sorted(new - old), "removed": sorted(old - new)})

    async def history(self, user: dict[str, Any], team: dict[str, Any], *, limit: int, cursor: str | None
                      ) -> tuple[list[dict[str, Any]], str | None]:
        """A team's adjustment history, newest first, for those ``scopes.require_team_viewer`` lets in."""
        scopes.require_team_viewer(user, team)
        return await page(self.db.team_history, {"team_id": team["_id"]}, limit=limit, cursor=cursor)


def render_team(team: dict[str, Any], users: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    users = users or {}
    return {"id": team["_id"], "name": team["name"], "institution_id": team.get("institution_id"),
            "institution": team.get("institution"), "region": team.get("region"),
            "contact": team.get("contact", ""), "specialty": team.get("specialty", ""),
            "leader_id": team.get("leader"),
            "members": [{**(render_staff(users[m["user_id"]]) if m["user_id"] in users else {"id": m["user_id"]}),
                         "name": m.get("name"), "work_type": m["work_type"]}
                        for m in team.get("member_info", [{"user_id": u, "work_type": "全科医生"}
                                                          for u in team.get("members", [])])]}


def render_history(entry: dict[str, Any]) -> dict[str, Any]:
    return {"id": entry["_id"], "team_id": entry["team_id"], "at": iso(entry["at"]), "by": entry["by"],
            "by_name": entry["by_name"], "kind": entry["kind"], "leader_from": entry["leader_from"],
            "leader_to": entry["leader_to"], "added": entry["added"], "removed": entry["removed"]}
