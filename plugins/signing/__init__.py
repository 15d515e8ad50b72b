"""Signing (签约): family-doctor teams and the residents signed with them.

This first version holds the roster the hub core stands on: teams with their members, and signings of residents
with a team for a term. It answers the core's consultation question from real signings. The full signing
workflow (applications, review, renewal, import) grows here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub import Index, hookimpl
from hub.ids import new_id, now

INDEXES = [
    Index("teams", [("members", 1)], "members"),
    Index("signings", [("resident_id", 1), ("status", 1)], "resident_status"),
    Index("signings", [("team_id", 1), ("status", 1)], "team_status"),
]
DEFAULT_TERM_DAYS = 365


@hookimpl
def register_indexes() -> list[Index]:
    return INDEXES


async def active_signing(db: Any, resident_id: str) -> dict[str, Any] | None:
    """The resident's signing in force today, if any."""
    moment = now()
    return await db.signings.find_one({"resident_id": resident_id, "status": "active",
                                       "start": {"$lte": moment}, "end": {"$gt": moment}})


@hookimpl
async def can_consult(hub: Any, resident: dict[str, Any], doctor: dict[str, Any]) -> bool | None:
    """A resident may consult the members of the team they are signed with."""
    signing = await active_signing(hub.db, resident["_id"])
    if signing is None:
        return None
    team = await hub.db.teams.find_one({"_id": signing["team_id"], "members": doctor["_id"]}, {"_id": 1})
    return True if team else None


@hookimpl
async def seed_demo(hub: Any, accounts: dict[str, dict[str, Any]]) -> None:
    """Two teams in two township health centres, each with a signed resident."""
    moment = now()
    for team_name, institution, doctor, resident in (
            ("雉城街道家庭医生一团队", "长兴县雉城街道社区卫生服务中心", "doctor.wang", "resident.zhang"),
            ("和平镇家庭医生二团队", "长兴县和平镇卫生院", "doctor.li", "resident.liu")):
        team_id = new_id()
        await hub.db.teams.insert_one({"_id": team_id, "name": team_name, "institution": institution,
                                       "region": accounts[doctor]["region"], "members": [accounts[doctor]["_id"]],
                                       "leader": accounts[doctor]["_id"], "created_at": moment})
        await hub.db.signings.insert_one({"_id": new_id(), "resident_id": accounts[resident]["_id"],
                                          "team_id": team_id, "doctor_id": accounts[doctor]["_id"],
                                          "status": "active", "start": moment - timedelta(days=1),
                                          "end": moment + timedelta(days=DEFAULT_TERM_DAYS), "created_at": moment})
