"""Who may do what: every role and data-scope check of the core in one place (PROTOCOL guarantee 6)."""

from __future__ import annotations

from typing import Any

from hub.errors import Forbidden

SUPERVISING_ROLES = frozenset({"supervisor", "sysadmin"})
CONSULTING_STAFF = frozenset({"doctor", "assistant", "team_leader"})


def require_role(user: dict[str, Any], *roles: str) -> None:
    if user["role"] not in roles:
        raise Forbidden("当前角色无权执行此操作", role=user["role"])


# 12-digit statistical division codes: province 2, city 2, county 2, town 3, village 3 digits.
REGION_LEVEL_DIGITS = (2, 4, 6, 9, 12)


def region_prefix(code: str) -> str:
    """The significant part of a region code: "330102000000" (a county) → "330102". Zeros are stripped by
    whole levels, never digit by digit, so county 330110 does not swallow county 330111."""
    for digits in REGION_LEVEL_DIGITS:
        if set(code[digits:]) <= {"0"}:
            return code[:digits]
    return code


def in_region(region: str, scope: str) -> bool:
    """Whether a region code lies inside a scope (scope "" is everywhere)."""
    return region.startswith(region_prefix(scope)) if scope else True


def can_supervise(supervisor: dict[str, Any], region: str) -> bool:
    """A sysadmin sees everything; a supervisor only what comes from inside their region."""
    if supervisor["role"] == "sysadmin":
        return True
    return supervisor["role"] == "supervisor" and in_region(region or "", supervisor.get("region", ""))


def region_filter(user: dict[str, Any], field: str = "region") -> dict[str, Any]:
    """A MongoDB filter limiting documents to the user's region (nothing for a sysadmin)."""
    require_role(user, *SUPERVISING_ROLES)
    if user["role"] == "sysadmin":
        return {}
    prefix = region_prefix(user.get("region") or "")
    return {field: {"$regex": f"^{prefix}"}} if prefix else {}


def is_participant(user: dict[str, Any], conversation: dict[str, Any]) -> bool:
    return user["_id"] in conversation["participants"]


def require_participant(user: dict[str, Any], conversation: dict[str, Any]) -> None:
    if not is_participant(user, conversation):
        raise Forbidden("不是该会话的参与者", conv=conversation["_id"])


INSTITUTION_STAFF_ROLES = frozenset({"doctor", "assistant", "team_leader"})


def require_account_admin(actor: dict[str, Any], account: dict[str, Any]) -> None:
    """Who may disable, enable or reset the password of an account: a sysadmin any other account; an institution
    admin the doctors, assistants and team leaders of their own institution (``institution_id`` on both user
    documents). Nobody their own account (their own password goes through ``/api/auth/password``), and
    supervisors none: the health bureau audits accounts and does not administer them (separation of duties,
    等保 2.0 三权分立)."""
    if actor["_id"] == account["_id"]:
        raise Forbidden("不能对自己的账号执行此操作")
    if actor["role"] == "sysadmin":
        return
    if (actor["role"] == "admin" and account["role"] in INSTITUTION_STAFF_ROLES and actor.get("institution_id")
            and account.get("institution_id") == actor["institution_id"]):
        return
    raise Forbidden("无权管理该账号", role=actor["role"])


def account_admin_filter(actor: dict[str, Any]) -> dict[str, Any]:
    """A MongoDB filter of the accounts ``actor`` may administer (the list view of ``require_account_admin``):
    every staff account for a sysadmin, their institution's doctors, assistants and team leaders for an
    institution admin; anyone else is refused."""
    if actor["role"] == "sysadmin":
        return {"role": {"$ne": "resident"}}
    if actor["role"] == "admin" and actor.get("institution_id"):
        return {"role": {"$in": sorted(INSTITUTION_STAFF_ROLES)}, "institution_id": actor["institution_id"]}
    raise Forbidden("无权管理账号", role=actor["role"])


def creatable_roles(actor: dict[str, Any]) -> tuple[str, ...]:
    """The roles of the staff accounts ``actor`` may create: those they may then administer."""
    if actor["role"] == "sysadmin":
        return ("doctor", "assistant", "team_leader", "admin", "supervisor", "sysadmin")
    if actor["role"] == "admin" and actor.get("institution_id"):
        return ("doctor", "assistant", "team_leader")
    return ()


def may_read_media(user: dict[str, Any], media: dict[str, Any]) -> bool:
    """Who may read a media object (its ``metadata``) without asking further: its owner, the users it was granted
    to, and a sysadmin. The participants of a conversation it was sent in are asked of the store
    (``MediaStore.get_for``); anyone else is told it does not exist."""
    return user["role"] == "sysadmin" or user["_id"] == media["owner"] or user["_id"] in media.get("readers", ())
