"""The signing plugin's screens (``register_screens``): each page with the roles that may use it, as the signing
rules decide (``scopes``, ``hub.roster.scopes``). The server still checks every request; a page a role does not
see is only one it could not use.

``ROSTER_PAGES``: the three signing modes (entry, pick from the roster, Excel import) and the roster's teams,
institutions and service packages. ``REVIEW_PAGES``: the review centre (签约审核 for the team's doctors,
无法签约审核 for the supervisors) and resident management (every staff role; the page shows each row action only
to the roles the API lets do it)."""

from __future__ import annotations

from pathlib import Path

from hub import Page, Screens
from hub.roster.scopes import STAFF_ROLES
from plugins.signing import scopes

MENU = "签约中心"
SIGNERS = ("doctor", "team_leader")  # scopes.SIGNING_ROLES: sign, by entry and by pick
IMPORTERS = (*SIGNERS, "admin")  # an admin imports for a doctor of its teams (scopes.require_import_target)
TEAM_VIEWERS = ("team_leader", "admin", "supervisor", "sysadmin")  # team_leader edits its own team
ROSTER_VIEWERS = ("admin", "supervisor", "sysadmin")  # institutions: a sysadmin creates them
PACKAGE_VIEWERS = ("doctor", "team_leader", "admin", "supervisor", "sysadmin")  # admins create packages

REVIEWERS = SIGNERS  # scopes.require_team_member: a doctor or leader of the signing's team approves or rejects
UNABLE_REVIEWERS = tuple(sorted(scopes.UNABLE_REVIEWERS))  # approve, reject, lift (a supervisor of the region)
STAFF = tuple(sorted(STAFF_ROLES))  # the resident list; its row actions are shown by role on the page

REVIEW_PAGES: tuple[Page, ...] = (
    Page("console", "/signing/review", "签约审核", "console/review.js", REVIEWERS, menu=MENU, order=10),
    Page("console", "/signing/unable", "无法签约审核", "console/unable.js", UNABLE_REVIEWERS, menu=MENU, order=11),
    Page("console", "/signing/residents", "居民管理", "console/residents.js", STAFF, menu=MENU, order=20),
)

ROSTER_PAGES: tuple[Page, ...] = (
    Page("console", "/signing/sign", "录入签约", "console/sign.js", SIGNERS, menu=MENU, order=30),
    Page("console", "/signing/pick", "花名册选人", "console/pick.js", SIGNERS, menu=MENU, order=31),
    Page("console", "/signing/import", "Excel 导入", "console/import.js", IMPORTERS, menu=MENU, order=32),
    Page("console", "/signing/teams", "团队管理", "console/teams.js", TEAM_VIEWERS, menu=MENU, order=40),
    Page("console", "/signing/institutions", "机构", "console/institutions.js", ROSTER_VIEWERS, menu=MENU,
         order=41),
    Page("console", "/signing/packages", "服务包", "console/packages.js", PACKAGE_VIEWERS, menu=MENU, order=42),
)

STATIC_DIR = Path(__file__).parent / "static"
TAG_MANAGERS = ("team_leader", "admin", "sysadmin")

#: 标签: list, create, rename, delete resident tags (the roles that manage tags, ``hub.roster.scopes``).
TAG_PAGES = (
    Page("console", "/signing/tags", "标签", "console/tags.js", TAG_MANAGERS, menu=MENU, order=90),
)
RESIDENT = ("resident",)
DOCTORS = ("doctor", "team_leader")  # the roles that sign and review (``scopes.SIGNING_ROLES``)

# The H5 app (375 px). Tabs are filled by path (/home, /family or /residents); the rest are reached by link.
H5_PAGES = (
    Page(app="h5", path="/home", title="首页", module="h5/home.js", roles=(*RESIDENT, *DOCTORS), menu="tab",
         order=10),
    Page(app="h5", path="/family", title="家庭", module="h5/family.js", roles=RESIDENT, menu="tab", order=30),
    Page(app="h5", path="/signing/apply", title="移动签约", module="h5/apply.js", roles=RESIDENT),
    Page(app="h5", path="/doctor/mine", title="我的家庭医生", module="h5/doctor_mine.js", roles=RESIDENT),
    Page(app="h5", path="/doctor/detail", title="医生详情", module="h5/doctor_detail.js", roles=RESIDENT),
    Page(app="h5", path="/residents", title="居民", module="h5/residents.js", roles=DOCTORS, menu="tab", order=30),
    Page(app="h5", path="/doctor/review", title="签约审核", module="h5/review.js", roles=DOCTORS),
    Page(app="h5", path="/doctor/sign", title="录入签约", module="h5/sign.js", roles=DOCTORS),
    Page(app="h5", path="/doctor/pick", title="花名册签约", module="h5/pick.js", roles=DOCTORS),
    Page(app="h5", path="/doctor/signings", title="签约管理", module="h5/signings.js", roles=DOCTORS),
)


def screens() -> Screens:
    """What ``register_screens`` returns: every page of the plugin, served from ``static/``."""
    return Screens(static_dir=STATIC_DIR, pages=(*REVIEW_PAGES, *ROSTER_PAGES, *TAG_PAGES, *H5_PAGES))
