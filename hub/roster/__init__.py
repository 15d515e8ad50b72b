"""The roster (花名册): regions, institutions, family-doctor teams with their members, work types, leader and
adjustment history, staff placement, residents and households, tags and service packages — the people and
places every business plugin (signing, services, follow-ups, statistics) works on.

It is part of the core, not a plugin: every business plugin needs it, none may own it alone (a second plugin
would otherwise read the first one's collections or copy its scope rules), and it changes the core's user
documents (staff placement), which only a core service may do. The hub builds one ``Roster`` and hands it to
handlers and plugins as ``hub.roster``; its scope rules are ``hub.roster.scopes`` (``RosterScopes``).

Modules: ``idcard`` (GB 11643 checks and masking), ``numbers`` (finding a resident by a whole number),
``regions``, ``teams`` (institutions, staff, teams), ``residents``, ``tags``, ``packages``, ``scopes``,
``checks`` (small input checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.database import AsyncDatabase

from hub.policy import REGION_LEVEL_DIGITS
from hub.roster.packages import Packages
from hub.roster.regions import Regions
from hub.roster.residents import Residents
from hub.roster.scopes import TEAM_ROLES, RosterScopes, can_see_resident
from hub.roster.tags import Tags
from hub.roster.teams import Institutions, Staff, Teams
from hub.store import Index

if TYPE_CHECKING:
    from hub.accounts import Accounts

EDITOR_ROLES = frozenset({*TEAM_ROLES, "admin"})  # may change a resident record (supervisors watch)

# Each secondary index costs ~70 ms per 1,000 inserted documents on the embedded server, so the bulk-written
# residents (the signing import) keep only the indexes their scoped queries need; a village (= region) or
# household filter rides on region_id, a status or tag filter on the scope's own index. The collection names
# are those the signing plugin gave them (``signing_tags`` too): renaming them is left to a migration.
INDEXES = [
    Index("regions", [("parent", 1), ("_id", 1)], "parent"),
    Index("regions", [("level", 1)], "level"),
    Index("institutions", [("region", 1)], "region"),
    Index("teams", [("members", 1)], "members"),
    Index("teams", [("institution_id", 1)], "institution"),
    Index("team_history", [("team_id", 1), ("_id", -1)], "team_id"),
    Index("residents", [("id_number", 1)], "id_number_unique", unique=True),
    Index("residents", [("account_id", 1)], "account"),
    Index("residents", [("region", 1), ("_id", 1)], "region_id"),
    Index("residents", [("team_id", 1), ("status", 1)], "team_status"),
    Index("signing_tags", [("name", 1)], "name_unique", unique=True),
]


class Roster:
    """The roster's services, built once per hub (``hub.roster``)."""

    def __init__(self, db: AsyncDatabase, accounts: Accounts) -> None:
        self.scopes = RosterScopes()
        self.regions = Regions(db)
        self.institutions = Institutions(db, self.regions)
        self.staff = Staff(accounts, self.regions, self.institutions)
        self.teams = Teams(db, accounts, self.institutions)
        self.tags = Tags(db)
        self.residents = Residents(db, self.regions, self.tags)
        self.packages = Packages(db)
        self._db = db

    async def editors_of(self, resident: dict[str, Any]) -> list[str]:
        """The staff who may change this record (``scopes.require_edit_resident``): the holding team and its
        institution's admin, or for a record no team holds the team staff and admins of its area."""
        if resident.get("team_id"):
            team = await self._db.teams.find_one({"_id": resident["team_id"]}, {"members": 1}) or {}
            query: dict[str, Any] = {"$or": [{"_id": {"$in": team.get("members", [])}},
                                             {"role": "admin", "institution_id": resident.get("institution_id")}]}
        else:
            query = {"role": {"$in": sorted(EDITOR_ROLES)}, "region": {"$in": ancestors(resident.get("region", ""))}}
        users = await self._db.users.find(query).to_list(500)
        return [u["_id"] for u in users if u["role"] in EDITOR_ROLES and can_see_resident(u, resident)]


def ancestors(region: str) -> list[str]:
    """The 12-digit codes of a region and every level above it."""
    return sorted({region[:digits].ljust(12, "0") for digits in REGION_LEVEL_DIGITS if len(region) >= digits})


__all__ = ["INDEXES", "Institutions", "Packages", "Regions", "Residents", "Roster", "RosterScopes", "Staff", "Tags",
           "Teams"]
