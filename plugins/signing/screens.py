"""The signing plugin's screens (``register_screens``): its console pages and its H5 pages, each a module under
``static/`` that the core serves at ``/plugins/signing/static/<file>``."""

from __future__ import annotations

from pathlib import Path

from hub import Page, Screens

STATIC_DIR = Path(__file__).parent / "static"
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
    return Screens(static_dir=STATIC_DIR, pages=(*H5_PAGES,))
