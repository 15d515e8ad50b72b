"""Demo data for the embedded default: the core's accounts, then each plugin's ``seed_demo``.

Seeded once: a marker in ``hub_state`` keeps a restart from seeding again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hub.ids import now
from hub.plugins import call_hook

if TYPE_CHECKING:
    from hub.app import Hub

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo1234"
COUNTY = "330522000000"  # 长兴县 (湖州市, 浙江省)
DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {"username": "sysadmin", "role": "sysadmin", "name": "系统管理员", "region": ""},
    {"username": "supervisor", "role": "supervisor", "name": "县卫健局 周监督", "region": COUNTY},
    {"username": "supervisor.other", "role": "supervisor", "name": "邻县卫健局 吴监督", "region": "330523000000"},
    {"username": "doctor.wang", "role": "doctor", "name": "王医生", "region": "330522100000"},
    {"username": "doctor.li", "role": "doctor", "name": "李医生", "region": "330522101000"},
    {"username": "admin.lin", "role": "admin", "name": "林管理员", "region": "330522100000"},
    {"username": "leader.qian", "role": "team_leader", "name": "钱医生", "region": "330522100000"},
    {"username": "assistant.sun", "role": "assistant", "name": "孙助理", "region": "330522100000"},
    {"username": "resident.zhang", "role": "resident", "name": "张建国", "phone": "13800000001",
     "region": "330522100201"},
    {"username": "resident.liu", "role": "resident", "name": "刘秀英", "phone": "13800000002",
     "region": "330522101202"},
]
DEMO_WORDS = [("法轮功", "block", "政治"), ("傻逼", "mask", "不雅"), ("代开发票", "alert", "广告"),
              ("大法", "alert", "政治"), ("大法官", "allow", "白名单")]


def describe_logins() -> str:
    """The start-up line listing every demo login and its role."""
    return f"demo logins (password {DEMO_PASSWORD}): " + ", ".join(
        f"{a['username']} ({a['role']})" for a in DEMO_ACCOUNTS)


async def seed_demo(hub: Hub) -> bool:
    """Create the demo accounts and let every plugin add its demo data. Returns False if already seeded."""
    if await hub.db.hub_state.find_one({"_id": "demo_seeded"}):
        return False
    accounts: dict[str, dict[str, Any]] = {}
    for spec in DEMO_ACCOUNTS:
        existing = await hub.db.users.find_one({"username": spec["username"]})
        accounts[spec["username"]] = existing or await hub.accounts.create_user(password=DEMO_PASSWORD, **spec)
    system = accounts["sysadmin"]
    for word, action, category in DEMO_WORDS:
        if not await hub.db.sensitive_words.find_one({"word": word}):
            await hub.words.add(system, word, action, category)
    await hub.words.refresh()
    await call_hook(hub.pm, "seed_demo", contained=False, hub=hub, accounts=accounts)
    await hub.db.hub_state.insert_one({"_id": "demo_seeded", "at": now()})
    log.info("demo data seeded")
    return True
