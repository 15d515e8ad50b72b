"""Screen slots: the pages of the PC console (``/console``) and of the H5 app (``/h5``) that the core and each
plugin declare (hook ``register_screens``), and which of them a role sees (``GET /api/screens``)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.accounts import ROLES
from hub.errors import ConfigError

log = logging.getLogger(__name__)

APPS = ("console", "h5")
PATH_PATTERN = re.compile(r"^(/[a-z0-9][a-z0-9_-]{0,63}){1,4}$")
MODULE_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\.m?js$")
#: The core's own files (its pages under ``static/console/pages/`` and ``static/h5/pages/``) are served at
#: ``/static/``; a plugin's at ``/plugins/<plugin>/static/``.
CORE = "hub"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@dataclass(frozen=True)
class Page:
    """One page: ``app`` "console" or "h5", its hash-route ``path`` ("/signing/review"), ``title`` ("签约审核"),
    ``module`` (an ES module file under the plugin's ``static_dir``), the ``roles`` that see it, the console
    ``menu`` group ("签约中心"; on H5 "" = reached by link, "tab" = a tab bar slot) and ``order`` in it."""

    app: str
    path: str
    title: str
    module: str
    roles: tuple[str, ...]
    menu: str = ""
    order: int = 100


@dataclass(frozen=True)
class Screens:
    """A plugin's answer to ``register_screens``: the folder its page modules are served from, and its pages."""

    static_dir: Path
    pages: tuple[Page, ...]


#: The core's pages: supervision (敏感词, 告警中心, 操作审计), accounts, and the pages every user has.
SUPERVISORS = ("supervisor", "sysadmin")
STAFF = ("doctor", "assistant", "team_leader", "admin", "supervisor", "sysadmin")
CORE_SCREENS = Screens(STATIC_DIR, (
    Page("console", "/supervision/alerts", "告警中心", "console/pages/alerts.js", SUPERVISORS, menu="监管中心",
         order=10),
    Page("console", "/supervision/words", "敏感词", "console/pages/words.js", SUPERVISORS, menu="监管中心", order=20),
    Page("console", "/supervision/audit", "操作审计", "console/pages/audit.js", SUPERVISORS, menu="监管中心",
         order=30),
    Page("console", "/accounts/staff", "账号管理", "console/pages/staff.js", ("admin", "sysadmin"), menu="系统管理",
         order=10),
    Page("console", "/me/password", "修改密码", "console/pages/password.js", STAFF, menu="个人中心", order=90),
    Page("h5", "/me", "我的", "h5/pages/me.js", ROLES, menu="tab", order=90),
))


@dataclass(frozen=True)
class Slot:
    plugin: str
    page: Page
    url: str  # the module's URL path


def _check(owner: str, screens: Any) -> list[Page]:
    """The valid pages of one declaration; a malformed one is a start-up error naming the plugin."""
    if not isinstance(screens, Screens):
        raise ConfigError(f"plugin {owner!r}: register_screens must return hub.Screens, not {type(screens).__name__}")
    pages = []
    for page in screens.pages:
        where = f"plugin {owner!r} page {getattr(page, 'path', page)!r}"
        if not isinstance(page, Page):
            raise ConfigError(f"{where}: not a hub.Page")
        if page.app not in APPS:
            raise ConfigError(f"{where}: app must be one of {APPS}")
        if not PATH_PATTERN.match(page.path):
            raise ConfigError(f"{where}: path must look like /signing/review")
        if not MODULE_PATTERN.match(page.module):
            raise ConfigError(f"{where}: module must be a relative .js file name")
        if not page.title or not isinstance(page.title, str):
            raise ConfigError(f"{where}: title is required")
        unknown = set(page.roles) - set(ROLES)
        if not page.roles or unknown or isinstance(page.roles, str):
            raise ConfigError(f"{where}: roles must be a tuple of {ROLES}, got {page.roles!r}")
        if page.app == "h5" and page.menu not in ("", "tab"):
            raise ConfigError(f"{where}: an H5 page's menu is '' or 'tab'")
        if not (Path(screens.static_dir) / page.module).is_file():
            # a page whose module is not there yet is left out (the core declares pages other work delivers)
            (log.info if owner == CORE else log.warning)("%s: module %s not found under %s; left out", where,
                                                         page.module, screens.static_dir)
            continue
        pages.append(page)
    return pages


class ScreenTable:
    """Every declared page, checked once at start-up."""

    def __init__(self, found: list[tuple[str, Any]]) -> None:
        self.static_dirs: dict[str, Path] = {}
        self.slots: list[Slot] = []
        seen: dict[tuple[str, str], str] = {}
        for owner, screens in [(CORE, CORE_SCREENS), *found]:
            pages = _check(owner, screens)
            if owner != CORE:
                self.static_dirs[owner] = Path(screens.static_dir).resolve()
            prefix = "/static/" if owner == CORE else f"/plugins/{owner}/static/"
            for page in pages:
                key = (page.app, page.path)
                if key in seen:
                    raise ConfigError(f"plugin {owner!r}: page {page.app}:{page.path} is declared by {seen[key]!r} too")
                seen[key] = owner
                self.slots.append(Slot(owner, page, prefix + page.module))

    def visible(self, app: str, role: str, base_url: str) -> list[dict[str, Any]]:
        slots = sorted((s for s in self.slots if s.page.app == app and role in s.page.roles),
                       key=lambda s: (s.page.menu, s.page.order, s.page.path))
        return [{"plugin": s.plugin, "path": s.page.path, "title": s.page.title, "menu": s.page.menu,
                 "order": s.page.order, "module": base_url + s.url} for s in slots]

    def known(self, app: str, path: str) -> bool:
        return any(s.page.app == app and s.page.path == path for s in self.slots)
