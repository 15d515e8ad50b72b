"""The signing plugin's screens (``register_screens``): each page with the roles that may use it, as the signing
rules decide (``scopes``, ``hub.roster.scopes``). The server still checks every request; a page a role does not
see is only one it could not use.

``ROSTER_PAGES``: the three signing modes (entry, pick from the roster, Excel import) and the roster's teams,
institutions and service packages. (The review centre and resident management are ``REVIEW_PAGES``.)"""

from __future__ import annotations

from hub import Page

MENU = "签约中心"
SIGNERS = ("doctor", "team_leader")  # scopes.SIGNING_ROLES: sign, by entry and by pick
IMPORTERS = (*SIGNERS, "admin")  # an admin imports for a doctor of its teams (scopes.require_import_target)
TEAM_VIEWERS = ("team_leader", "admin", "supervisor", "sysadmin")  # team_leader edits its own team
ROSTER_VIEWERS = ("admin", "supervisor", "sysadmin")  # institutions: a sysadmin creates them
PACKAGE_VIEWERS = ("doctor", "team_leader", "admin", "supervisor", "sysadmin")  # admins create packages

ROSTER_PAGES: tuple[Page, ...] = (
    Page("console", "/signing/sign", "录入签约", "console/sign.js", SIGNERS, menu=MENU, order=30),
    Page("console", "/signing/pick", "花名册选人", "console/pick.js", SIGNERS, menu=MENU, order=31),
    Page("console", "/signing/import", "Excel 导入", "console/import.js", IMPORTERS, menu=MENU, order=32),
    Page("console", "/signing/teams", "团队管理", "console/teams.js", TEAM_VIEWERS, menu=MENU, order=40),
    Page("console", "/signing/institutions", "机构", "console/institutions.js", ROSTER_VIEWERS, menu=MENU,
         order=41),
    Page("console", "/signing/packages", "服务包", "console/packages.js", PACKAGE_VIEWERS, menu=MENU, order=42),
)
