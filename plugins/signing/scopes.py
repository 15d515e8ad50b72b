"""Who may see and do what with signings and unable-to-sign requests. The roster's own rules (residents, teams,
staff, tags) are the roster's (``hub.roster.scopes``); these build on them and are the only other scope checks
of the plugin."""

from __future__ import annotations

from typing import Any

from hub import Forbidden, InvalidInput
from hub.policy import in_region, require_role
from hub.roster.scopes import TEAM_ROLES, scope_filter

SIGNING_ROLES = frozenset({"doctor", "team_leader"})  # may sign, review, renew, terminate, record a refusal
UNABLE_REVIEWERS = frozenset({"supervisor", "sysadmin"})

def signing_filter(user: dict[str, Any]) -> dict[str, Any]:
    """MongoDB filter of the signings a user may see: staff by scope, a resident account its family's."""
    found = scope_filter(user)
    return {"account_id": user["_id"]} if found is None else found


def can_see_signing(user: dict[str, Any], signing: dict[str, Any]) -> bool:
    role = user["role"]
    if role == "sysadmin":
        return True
    if role == "supervisor":
        return bool(user.get("region")) and in_region(signing.get("region", ""), user["region"])
    if role == "admin":
        return bool(user.get("institution_id")) and signing.get("institution_id") == user["institution_id"]
    if role in TEAM_ROLES:
        return bool(user.get("team_id")) and signing.get("team_id") == user["team_id"]
    return signing.get("account_id") == user["_id"]


def require_see_signing(user: dict[str, Any], signing: dict[str, Any]) -> None:
    if not can_see_signing(user, signing):
        raise Forbidden("无权查看该签约", signing_id=signing["_id"])


def require_signing_staff(user: dict[str, Any]) -> str:
    """A doctor or team leader with a team; returns the team id."""
    require_role(user, *SIGNING_ROLES)
    if not user.get("team_id"):
        raise Forbidden("您尚未加入家庭医生团队", reason="no_team")
    return user["team_id"]


def import_filter(user: dict[str, Any]) -> dict[str, Any]:
    """The imports a user may list: a doctor's or team leader's team's, an institution admin's institution's."""
    if user["role"] == "admin":
        if not user.get("institution_id"):
            raise Forbidden("您尚未关联医疗机构", reason="no_institution")
        return {"institution_id": user["institution_id"]}
    return {"team_id": require_signing_staff(user)}


def require_import_target(user: dict[str, Any], team: dict[str, Any], doctor: dict[str, Any]) -> None:
    """An institution admin imports as signings of a doctor (or team leader) of a team of their institution."""
    require_role(user, "admin")
    if not user.get("institution_id") or team.get("institution_id") != user["institution_id"]:
        raise Forbidden("只能为本机构的团队导入", team_id=team["_id"])
    if doctor["role"] not in SIGNING_ROLES or doctor["_id"] not in team.get("members", []):
        raise InvalidInput("请选择该团队的医生", field="doctor_id")


def require_team_member(user: dict[str, Any], signing: dict[str, Any]) -> None:
    """Reviewing, renewing or terminating a signing: a doctor or team leader of its team."""
    team_id = require_signing_staff(user)
    if signing.get("team_id") != team_id:
        raise Forbidden("只能处理本团队的签约", signing_id=signing["_id"])


def unable_filter(user: dict[str, Any]) -> dict[str, Any]:
    """Unable-to-sign requests: supervisors their region, staff their team or institution."""
    found = scope_filter(user)
    if found is None:
        raise Forbidden("当前角色无权执行此操作", role=user["role"])
    return found


def _require_unable_authority(user: dict[str, Any], region: str, message: str, **details: Any) -> None:
    """Unable-to-sign decisions: a supervisor of ``region`` (one without a region of their own decides nothing)
    or a sysadmin."""
    require_role(user, *UNABLE_REVIEWERS)
    if user["role"] == "supervisor" and not (user.get("region") and in_region(region, user["region"])):
        raise Forbidden(message, **details)


def require_unable_reviewer(user: dict[str, Any], request: dict[str, Any]) -> None:
    _require_unable_authority(user, request["region"], "该申请不在您的辖区内", request_id=request["_id"])


def require_unable_lifter(user: dict[str, Any], resident: dict[str, Any]) -> None:
    """Lifting an approved unable-to-sign: the authority that approves them, for the resident's (current)
    region."""
    _require_unable_authority(user, resident.get("region", ""), "该居民不在您的辖区内", resident_id=resident["_id"])
