"""Test plugin: screens only a role or two may see, on paths no real plugin uses, for the shells' tests (menu by
role, 无权访问 on a direct URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub import Page, Screens, hookimpl

STATIC_DIR = Path(__file__).parent / "web_screens_static"
SUPERVISORS = ("supervisor", "sysadmin")
SIGNERS = ("doctor", "team_leader")


@hookimpl
def register_screens(hub: Any) -> Screens:
    return Screens(STATIC_DIR, (
        Page("console", "/webtest/overview", "测试监管总览", "console/overview.js", SUPERVISORS, menu="测试监管",
             order=1),
        Page("console", "/webtest/entry", "测试签约录入", "console/entry.js", SIGNERS, menu="测试签约", order=1),
        Page("h5", "/webtest/review", "测试审核", "h5/review.js", SIGNERS),
    ))
