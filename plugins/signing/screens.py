"""The signing plugin's screens (``register_screens``): console and H5 pages served from ``static/``."""

from __future__ import annotations

from pathlib import Path

from hub import Page, Screens

STATIC_DIR = Path(__file__).resolve().parent / "static"
TAG_MANAGERS = ("team_leader", "admin", "sysadmin")

#: 标签: list, create, rename, delete resident tags (the roles that manage tags, ``hub.roster.scopes``).
TAG_PAGES = (
    Page("console", "/signing/tags", "标签", "console/tags.js", TAG_MANAGERS, menu="签约中心", order=90),
)


def screens() -> Screens:
    return Screens(STATIC_DIR, (*TAG_PAGES,))
