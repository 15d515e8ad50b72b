"""A small county for the signing tests: regions, two institutions with teams and staff in one county, one
institution in the next county, supervisors, a sysadmin and two resident accounts — each user with a token
(minted by the hub, not logged in for)."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import tornado.httpclient
from openpyxl import load_workbook

from handlers.base import XLSX
from hub.roster.idcard import make_id_number
from tests.support import PASSWORD, RunningHub, api, token_for

REGIONS_CSV = """code,name
330000000000,浙江省
330500000000,湖州市
330522000000,长兴县
330522100000,雉城街道
330522101000,和平镇
330522100201,城东村
330522100202,城西村
330522101201,和平村
330523000000,安吉县
330523100000,递铺街道
330523100201,古城村
"""
VILLAGE_A, VILLAGE_A2, VILLAGE_B, VILLAGE_C = "330522100201", "330522100202", "330522101201", "330523100201"
_sequence = itertools.count(100)


def id_number(born: date = date(1960, 4, 1), area: str = "330522") -> str:
    return make_id_number(area, born, next(_sequence))


@dataclass
class World:
    running: RunningHub
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    institutions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def hub(self) -> Any:
        return self.running.hub

    def token(self, name: str) -> str:
        return self.users[name]["token"]

    def id(self, name: str) -> str:
        return self.users[name]["_id"]

    async def call(self, who: str | None, method: str, path: str, body: Any = None, **kwargs: Any
                   ) -> tuple[int, Any]:
        return await api(self.running.url, method, path, self.token(who) if who else None, body, **kwargs)

    async def resident(self, who: str = "sysadmin", village: str = VILLAGE_A, **fields: Any) -> dict[str, Any]:
        """A roster record created over the API (201 asserted)."""
        body = {"name": "测试居民", "id_number": id_number(), "village": village, "phone": "13700000000",
                "address": "测试路1号", **fields}
        status, data = await self.call(who, "POST", "/api/signing/residents", body)
        assert status == 201, data
        return data

    async def sign(self, who: str, resident_id: str, **extra: Any) -> tuple[int, Any]:
        return await self.call(who, "POST", "/api/signing/signings", {"resident_id": resident_id, **extra})


STAFF = [  # name, role, institution key, team key, work type
    ("admin_a", "admin", "A", None, None), ("admin_b", "admin", "B", None, None),
    ("doctor_a1", "doctor", "A", "A1", "全科医生"), ("doctor_a2", "doctor", "A", "A1", "全科医生"),
    ("assistant_a1", "assistant", "A", "A1", "家庭助理"), ("leader_a1", "team_leader", "A", "A1", "全科医生"),
    ("doctor_a3", "doctor", "A", "A2", "全科医生"), ("doctor_b1", "doctor", "B", "B1", "全科医生"),
    ("doctor_c", "doctor", "C", "C1", "全科医生"),
]


async def build_world(make_hub: Any, **settings: Any) -> World:
    running = await make_hub(plugins={"signing": True, "example_greeter": False}, plugin_modules=[], **settings)
    world = World(running)
    db = running.hub.db
    hub = running.hub
    sysadmin = await hub.accounts.create_user(username="sysadmin", password=PASSWORD, role="sysadmin",
                                              name="系统管理员")
    world.users["sysadmin"] = sysadmin
    world.users["sysadmin"]["token"] = token_for(running, sysadmin)
    status, data = await world.call("sysadmin", "POST", "/api/signing/regions", raw=REGIONS_CSV.encode(),
                                    headers={"Content-Type": "text/csv"})
    assert status == 200 and data == {"written": 11}, data
    for key, name, kind, region in (("A", "雉城街道社区卫生服务中心", "社区卫生服务中心", "330522100000"),
                                    ("B", "和平镇卫生院", "卫生院", "330522101000"),
                                    ("C", "递铺街道社区卫生服务中心", "社区卫生服务中心", "330523100000")):
        world.institutions[key] = await hub.roster.institutions.create({"name": name, "kind": kind, "region": region})
    for name, role, inst, _, work_type in STAFF:
        body = {"username": name, "password": PASSWORD, "role": role, "name": f"测试{name}",
                "institution_id": world.institutions[inst]["_id"], "work_type": work_type}
        world.users[name] = await hub.roster.staff.create(sysadmin, body)
    for name, role, region, phone in (("supervisor", "supervisor", "330522000000", None),
                                      ("supervisor_other", "supervisor", "330523000000", None),
                                      ("res1", "resident", VILLAGE_A, "13900000001"),
                                      ("res2", "resident", VILLAGE_B, "13900000002")):
        world.users[name] = await hub.accounts.create_user(username=name, password=PASSWORD, role=role,
                                                           name=f"测试{name}", region=region, phone=phone)
    for key, inst in (("A1", "A"), ("A2", "A"), ("B1", "B"), ("C1", "C")):
        members = [{"user_id": world.id(n), "work_type": w} for n, _, _, t, w in STAFF if t == key]
        leader = world.id("leader_a1") if key == "A1" else members[0]["user_id"]
        world.teams[key] = await hub.roster.teams.create(sysadmin, {
            "institution_id": world.institutions[inst]["_id"], "name": f"团队{key}", "members": members,
            "leader_id": leader, "contact": "0572-6000000"})
    for name in [n for n in world.users if n != "sysadmin"]:  # as stored now (staff got their places)
        user = await db.users.find_one({"_id": world.id(name)})
        world.users[name] = {**user, "token": token_for(running, user)}
    return world


async def fetch_raw(world: World, who: str, path: str, method: str = "GET", body: bytes | None = None
                    ) -> tornado.httpclient.HTTPResponse:
    """A request whose reply is not JSON (an .xlsx download) or whose body is not JSON (an upload)."""
    request = tornado.httpclient.HTTPRequest(world.running.url + path, method=method, body=body,
                                             headers={"Authorization": f"Bearer {world.token(who)}",
                                                      "Content-Type": XLSX},
                                             request_timeout=120)
    return await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)


def read_xlsx(data: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows
