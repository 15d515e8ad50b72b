"""Institutions (卫生院 / 社区卫生服务中心), family-doctor teams with their adjustment history, and staff accounts.

A staff member's institution and team live on their user document (``institution_id``, ``team_id``,
``work_type``); ``region`` there is the institution's region, the service area used by the scopes.
"""

from __future__ import annotations

from typing import Any

from hub import Conflict, Forbidden, InvalidInput, get_by_id
from hub.ids import iso, new_id, now
from plugins.signing import regions, scopes
from plugins.signing.checks import optional_text, required_text

INSTITUTION_KINDS = ("卫生院", "社区卫生服务中心")
WORK_TYPES = ("全科医生", "护士", "公卫医师", "家庭助理", "专科医生", "药师", "其他")
STAFF_ROLES_BY_ADMIN = ("doctor", "assistant", "team_leader", "admin")
STAFF_ROLES_BY_SYSADMIN = (*STAFF_ROLES_BY_ADMIN, "supervisor", "sysadmin")


# -- institutions --------------------------------------------------------------------------------------------

async def create_institution(db: Any, body: dict[str, Any]) -> dict[str, Any]:
    name = required_text(body, "name", 60)
    kind = body.get("kind")
    if kind not in INSTITUTION_KINDS:
        raise InvalidInput("机构类型应为 卫生院 或 社区卫生服务中心", field="kind")
    region = await regions.get_region(db, regions.check_code(body.get("region"), "region"))
    if region["level"] < 3:
        raise InvalidInput("机构所在区划应为区县、乡镇或村", field="region")
    doc = {"_id": new_id(), "name": name, "kind": kind, "region": region["_id"],
           "address": optional_text(body, "address", 200), "phone": optional_text(body, "phone", 30),
           "created_at": now()}
    if await db.institutions.find_one({"name": name}, {"_id": 1}):
        raise Conflict("机构名称已存在", field="name")
    await db.institutions.insert_one(doc)
    return doc


async def get_institution(db: Any, institution_id: str) -> dict[str, Any]:
    return await get_by_id(db.institutions, institution_id, "机构不存在")


def render_institution(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "name": doc["name"], "kind": doc["kind"], "region": doc["region"],
            "address": doc.get("address", ""), "phone": doc.get("phone", "")}


# -- staff ---------------------------------------------------------------------------------------------------

async def create_staff(hub: Any, actor: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A staff account; an institution admin creates staff of their own institution only."""
    role = body.get("role")
    allowed = STAFF_ROLES_BY_SYSADMIN if actor["role"] == "sysadmin" else STAFF_ROLES_BY_ADMIN
    if role not in allowed:
        raise InvalidInput(f"角色应为 {' / '.join(allowed)}", field="role")
    extra: dict[str, Any] = {}
    region = ""
    if role == "supervisor":
        region = regions.check_code(body.get("region"), "region")
        await regions.get_region(hub.db, region)
    elif role != "sysadmin":
        institution_id = body.get("institution_id") or actor.get("institution_id")
        if not isinstance(institution_id, str):
            raise InvalidInput("institution_id 必填", field="institution_id")
        scopes.require_roster_admin(actor, institution_id)
        institution = await get_institution(hub.db, institution_id)
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
    return await hub.accounts.create_user(username=body["username"].strip(), password=body["password"], role=role,
                                          name=body["name"].strip()[:30], phone=phone or None, region=region,
                                          title=optional_text(body, "title", 30),
                                          profile=optional_text(body, "profile", 500), **extra)


def render_staff(user: dict[str, Any]) -> dict[str, Any]:
    """A staff member's public profile (no phone number: the team's contact is public instead)."""
    return {"id": user["_id"], "name": user["name"], "role": user["role"], "work_type": user.get("work_type"),
            "title": user.get("title", ""), "profile": user.get("profile", ""),
            "institution_id": user.get("institution_id"), "team_id": user.get("team_id")}


# -- teams ---------------------------------------------------------------------------------------------------

async def _check_members(db: Any, institution_id: str, members: object, team_id: str | None
                         ) -> list[dict[str, Any]]:
    """``[{"user_id", "work_type"}]`` → the same, checked: staff of this institution, in no other team."""
    if not isinstance(members, list) or len(members) > 30:
        raise InvalidInput("members 应为成员列表（最多 30 人）", field="members")
    checked: list[dict[str, Any]] = []
    for item in members:
        user_id = item.get("user_id") if isinstance(item, dict) else None
        if not isinstance(user_id, str):
            raise InvalidInput("成员应为 {user_id, work_type}", field="members")
        user = await db.users.find_one({"_id": user_id})
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


async def create_team(db: Any, actor: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    institution_id = body.get("institution_id") or actor.get("institution_id")
    if not isinstance(institution_id, str):
        raise InvalidInput("institution_id 必填", field="institution_id")
    scopes.require_roster_admin(actor, institution_id)
    institution = await get_institution(db, institution_id)
    team_id = new_id()
    members = await _check_members(db, institution_id, body.get("members", []), team_id)
    leader = body.get("leader_id")
    if leader is not None and leader not in {m["user_id"] for m in members}:
        raise InvalidInput("团队长须是团队成员", field="leader_id")
    doc = {"_id": team_id, "name": required_text(body, "name", 60), "institution_id": institution_id,
           "institution": institution["name"], "region": institution["region"],
           "contact": optional_text(body, "contact", 60), "specialty": optional_text(body, "specialty", 300),
           "leader": leader, "members": [m["user_id"] for m in members], "member_info": members,
           "created_at": now(), "updated_at": now()}
    await db.teams.insert_one(doc)
    await _assign_users(db, team_id, added=doc["members"], removed=[])
    await _record_history(db, actor, doc, before=None)
    return doc


async def get_team(db: Any, team_id: str) -> dict[str, Any]:
    return await get_by_id(db.teams, team_id, "团队不存在")


async def update_team(db: Any, actor: dict[str, Any], team: dict[str, Any], body: dict[str, Any]
                      ) -> dict[str, Any]:
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
        members = await _check_members(db, team["institution_id"], body["members"], team["_id"])
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
    await db.teams.update_one({"_id": team["_id"]}, {"$set": changes})
    updated = {**team, **changes}
    old, new = set(team.get("members", [])), set(updated["members"])
    await _assign_users(db, team["_id"], added=sorted(new - old), removed=sorted(old - new))
    if old != new or team.get("leader") != updated.get("leader"):
        await _record_history(db, actor, updated, before=team)
    return updated


async def _assign_users(db: Any, team_id: str, *, added: list[str], removed: list[str]) -> None:
    if added:
        await db.users.update_many({"_id": {"$in": added}}, {"$set": {"team_id": team_id}})
    if removed:
        await db.users.update_many({"_id": {"$in": removed}, "team_id": team_id}, {"$set": {"team_id": None}})


async def _record_history(db: Any, actor: dict[str, Any], team: dict[str, Any], before: dict[str, Any] | None
                          ) -> None:
    old = set(before.get("members", [])) if before else set()
    new = set(team["members"])
    await db.team_history.insert_one({
        "_id": new_id(), "team_id": team["_id"], "at": now(), "by": actor["_id"], "by_name": actor["name"],
        "kind": "created" if before is None else "adjusted",
        "leader_from": before.get("leader") if before else None, "leader_to": team.get("leader"),
        "added": sorted(new - old), "removed": sorted(old - new)})


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
