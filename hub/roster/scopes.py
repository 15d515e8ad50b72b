"""Who may see and change which roster objects — the filters and checks every plugin reuses (through
``hub.roster.scopes``, a ``RosterScopes``) instead of writing its own.

Scopes (PROTOCOL: "every endpoint checks both the role and the data scope"):

- ``doctor``, ``assistant``, ``team_leader``: their team (``user.team_id``) — residents held by the team, plus
  residents of the team's service area (``user.region`` prefix) that no team holds yet, so a doctor can pick them
  from the roster;
- ``admin`` (institution): their institution (``user.institution_id``), and unheld residents of its region;
- ``supervisor``: their region (region-code prefix, ``hub.policy``);
- ``sysadmin``: everything;
- ``resident`` (an account): the family members it manages (``resident.account_id``).

``scope_filter`` is the same rule for any document carrying ``region``, ``institution_id`` and ``team_id`` (a
signing, a visit, a follow-up): a plugin narrows its own documents with it.

Masking rule: ID and phone numbers are masked in every list, export, error report and log line. They are shown
whole only on a detail view (one resident, one signing) to the account managing that resident and to the
doctor, assistant or team leader of the team holding the resident.
"""

from __future__ import annotations

import re
from typing import Any

from hub.errors import Forbidden
from hub.policy import in_region, region_prefix, require_role

TEAM_ROLES = frozenset({"doctor", "assistant", "team_leader"})
STAFF_ROLES = frozenset({*TEAM_ROLES, "admin", "supervisor", "sysadmin"})
ROSTER_ADMINS = frozenset({"admin", "sysadmin"})


def prefix_filter(field: str, region: str) -> dict[str, Any]:
    prefix = region_prefix(region or "")
    return {field: {"$regex": "^" + re.escape(prefix)}} if prefix else {}


def _unheld_in(region: str) -> dict[str, Any]:
    return {"team_id": None, **prefix_filter("region", region)} if region else {"_id": None}


def resident_filter(user: dict[str, Any]) -> dict[str, Any]:
    """MongoDB filter of the residents a user may see."""
    found = scope_filter(user)
    if found is None:
        return {"account_id": user["_id"]}
    if user["role"] == "admin" or user["role"] in TEAM_ROLES:  # also residents no team holds yet, to sign them
        return {"$or": [found, _unheld_in(user.get("region", ""))]}
    return found


def can_see_resident(user: dict[str, Any], resident: dict[str, Any]) -> bool:
    """The same rule as ``resident_filter``, for one document."""
    role = user["role"]
    region = resident.get("region", "")
    unheld = resident.get("team_id") is None and bool(user.get("region")) and in_region(region, user["region"])
    if role == "sysadmin":
        return True
    if role == "supervisor":
        return bool(user.get("region")) and in_region(region, user["region"])
    if role == "admin":
        return unheld or (bool(user.get("institution_id")) and resident.get("institution_id") == user["institution_id"])
    if role in TEAM_ROLES:
        return unheld or (bool(user.get("team_id")) and resident.get("team_id") == user["team_id"])
    return resident.get("account_id") == user["_id"]


def require_see_resident(user: dict[str, Any], resident: dict[str, Any]) -> None:
    if not can_see_resident(user, resident):
        raise Forbidden("该居民不在您的管辖范围内", resident_id=resident["_id"])


def require_edit_resident(user: dict[str, Any], resident: dict[str, Any]) -> None:
    """Staff in scope (not supervisors: they watch, they do not edit), or the managing account."""
    if user["role"] == "supervisor":
        raise Forbidden("监督管理人员不能修改居民信息")
    require_see_resident(user, resident)


def require_in_service_area(user: dict[str, Any], village: str) -> None:
    """A new resident record: a village of the user's own service area (a sysadmin anywhere)."""
    if user["role"] != "sysadmin" and not (user.get("region") and in_region(village, user["region"])):
        raise Forbidden("该村不在您的服务范围内", field="village")


def shows_whole_numbers(user: dict[str, Any], resident: dict[str, Any]) -> bool:
    """On a detail view only: the managing account, and the staff of the team holding the resident."""
    if resident.get("account_id") == user["_id"]:
        return True
    return (user["role"] in TEAM_ROLES and bool(user.get("team_id"))
            and resident.get("team_id") == user["team_id"])


def scope_filter(user: dict[str, Any]) -> dict[str, Any] | None:
    """Documents carrying region, institution_id and team_id, as a staff user may see them (None: not staff;
    a resident account's documents are those carrying its ``account_id``)."""
    role = user["role"]
    if role == "sysadmin":
        return {}
    if role == "supervisor":
        return prefix_filter("region", user.get("region", "")) or {"_id": None}
    if role == "admin":
        return {"institution_id": user.get("institution_id") or "-"}
    if role in TEAM_ROLES:
        return {"team_id": user.get("team_id") or "-"}
    return None


def staff_filter(user: dict[str, Any]) -> dict[str, Any]:
    """Staff accounts a staff user may list: a supervisor those of institutions in their region (a staff
    account's ``region`` is its institution's), a sysadmin all, everyone else their own institution's."""
    if user["role"] == "sysadmin":
        return {}
    if user["role"] == "supervisor":
        return prefix_filter("region", user.get("region", "")) or {"_id": None}
    return {"institution_id": user.get("institution_id") or "-"}


def require_roster_admin(user: dict[str, Any], institution_id: str | None = None) -> None:
    """Institutions, teams and staff: a sysadmin anywhere, an institution admin in their institution."""
    require_role(user, *ROSTER_ADMINS)
    if user["role"] == "admin" and institution_id is not None and user.get("institution_id") != institution_id:
        raise Forbidden("只能管理本机构", institution_id=institution_id)


def require_team_editor(user: dict[str, Any], team: dict[str, Any]) -> None:
    """A team's details and members: its institution's admin, a sysadmin, or the team's own leader."""
    if user["role"] == "team_leader" and user.get("team_id") == team["_id"]:
        return
    require_roster_admin(user, team["institution_id"])


def require_team_viewer(user: dict[str, Any], team: dict[str, Any]) -> None:
    """A team's internal records (adjustment history): its institution's staff, supervisors of its region."""
    role = user["role"]
    if role == "sysadmin":
        return
    if role == "supervisor" and user.get("region") and in_region(team["region"], user["region"]):
        return
    if role in (*TEAM_ROLES, "admin") and user.get("institution_id") == team["institution_id"]:
        return
    raise Forbidden("无权查看该团队的调整记录", team_id=team["_id"])


def team_filter(user: dict[str, Any]) -> dict[str, Any]:
    """Teams a user may list: staff see their institution's (supervisors their region's); residents see all, to
    choose one when applying."""
    role = user["role"]
    if role in ("sysadmin", "resident"):
        return {}
    if role == "supervisor":
        return prefix_filter("region", user.get("region", "")) or {"_id": None}
    return {"institution_id": user.get("institution_id") or "-"}


def require_tag_admin(user: dict[str, Any]) -> None:
    require_role(user, "team_leader", "admin", "sysadmin")


def require_tag_user(user: dict[str, Any]) -> None:
    require_role(user, *TEAM_ROLES, "admin", "sysadmin")


class RosterScopes:
    """The roster's scope rules as one object (``hub.roster.scopes``): MongoDB filters (``*_filter``) and checks
    (``can_*`` answer, ``require_*`` raise ``Forbidden``). Stateless; the role sets are attributes too."""

    TEAM_ROLES = TEAM_ROLES
    STAFF_ROLES = STAFF_ROLES
    ROSTER_ADMINS = ROSTER_ADMINS
    prefix_filter = staticmethod(prefix_filter)
    resident_filter = staticmethod(resident_filter)
    can_see_resident = staticmethod(can_see_resident)
    require_see_resident = staticmethod(require_see_resident)
    require_edit_resident = staticmethod(require_edit_resident)
    require_in_service_area = staticmethod(require_in_service_area)
    shows_whole_numbers = staticmethod(shows_whole_numbers)
    scope_filter = staticmethod(scope_filter)
    staff_filter = staticmethod(staff_filter)
    require_roster_admin = staticmethod(require_roster_admin)
    require_team_editor = staticmethod(require_team_editor)
    require_team_viewer = staticmethod(require_team_viewer)
    team_filter = staticmethod(team_filter)
    require_tag_admin = staticmethod(require_tag_admin)
    require_tag_user = staticmethod(require_tag_user)
