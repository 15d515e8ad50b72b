"""The demo county (长兴县): three towns and their villages, two institutions with two teams each, a couple of
thousand residents in households (records written in bulk — only the demo accounts have passwords), and signings
in every state: signed, due for renewal, pending, rejected, refused, terminated, expired, unable to sign.

The staff demo logins are placed in the county: doctor.wang and doctor.li in a team of each institution,
admin.lin as the admin of the 雉城街道 centre, leader.qian as the leader of its second team and assistant.sun as the
家庭助理 of doctor.wang's team."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from hub.ids import CST, new_id, now
from hub.roster import idcard, residents
from plugins.signing import signings

REGIONS = [
    ("330000000000", "浙江省"), ("330500000000", "湖州市"), ("330522000000", "长兴县"),
    ("330522100000", "雉城街道"), ("330522101000", "和平镇"), ("330522102000", "泗安镇"),
    ("330522100201", "城东村"), ("330522100202", "城西村"), ("330522100203", "画溪村"),
    ("330522101201", "和平村"), ("330522101202", "长城村"), ("330522101203", "吴山村"),
    ("330522102201", "泗安村"), ("330522102202", "管埭村"),
]
# (name, kind, region, demo admin login or None)
INSTITUTIONS = [("长兴县雉城街道社区卫生服务中心", "社区卫生服务中心", "330522100000", "admin.lin"),
                ("长兴县和平镇卫生院", "卫生院", "330522101000", None)]
# (institution index, team name, specialty, [(staff name, role, work type, demo login or None)], demo doctor login
# or None); the first team_leader is the leader, else the first member.
StaffRow = tuple[str, str, str, str | None]
TEAMS: list[tuple[int, str, str, list[StaffRow], str | None]] = [
    (0, "雉城街道家庭医生一团队", "慢性病管理、老年人健康",
     [("赵护士", "assistant", "护士", None), ("孙助理", "assistant", "家庭助理", "assistant.sun")], "doctor.wang"),
    (0, "雉城街道家庭医生二团队", "妇幼保健、儿童健康",
     [("钱医生", "team_leader", "全科医生", "leader.qian"), ("周护士", "assistant", "护士", None)], None),
    (1, "和平镇家庭医生二团队", "高血压、糖尿病随访", [("郑公卫医师", "assistant", "公卫医师", None)], "doctor.li"),
    (1, "和平镇家庭医生三团队", "康复、残疾人服务",
     [("冯医生", "team_leader", "全科医生", None), ("陈护士", "assistant", "护士", None)], None),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["建国", "秀英", "桂英", "志强", "美兰", "海燕", "国平", "丽华", "小明", "文杰", "雪梅", "晓东", "玉珍", "春生",
         "金凤", "永康", "子涵", "欣怡", "浩然", "雨桐", "宇航", "思远", "佳怡", "俊杰", "淑芬", "明辉", "红梅", "德福"]
CHRONIC = ["高血压", "糖尿病", "冠心病", "慢阻肺"]


async def seed(hub: Any, accounts: dict[str, dict[str, Any]]) -> None:
    roster = hub.roster
    rng = random.Random(20261126)
    await roster.regions.load(REGIONS)
    await roster.packages.ensure_standard(hub.config["signing.default_term_years"])
    institutions = []
    for name, kind, region, admin in INSTITUTIONS:
        doc = await roster.institutions.create({"name": name, "kind": kind, "region": region, "phone": "0572-6000000"})
        institutions.append(doc)
        if admin:
            await roster.staff.place(accounts[admin]["_id"], doc, work_type="其他",
                                     profile="负责本中心家庭医生签约管理。")
    teams = []
    for index, (inst, name, specialty, staff, doctor) in enumerate(TEAMS):
        institution = institutions[inst]
        members = []  # (user id, role, work type)
        if doctor:
            await roster.staff.place(accounts[doctor]["_id"], institution, work_type="全科医生", title="主治医师",
                                     profile="从事全科医疗十余年，擅长慢性病管理。")
            members.append((accounts[doctor]["_id"], "doctor", "全科医生"))
        for n, (person, role, work_type, login) in enumerate(staff):
            if login:
                await roster.staff.place(accounts[login]["_id"], institution, work_type=work_type)
                members.append((accounts[login]["_id"], role, work_type))
                continue
            profile = await hub.accounts.create_user(
                username=f"demo.staff.{index}.{n}", password=None, role=role, name=person,
                region=institution["region"], institution_id=institution["_id"], team_id=None, work_type=work_type,
                title="", profile="")
            members.append((profile["_id"], role, work_type))
        leader = next((user_id for user_id, role, _ in members if role == "team_leader"), members[0][0])
        team = await roster.teams.create(accounts["sysadmin"], {
            "institution_id": institution["_id"], "name": name, "contact": f"0572-60000{index + 1:02d}",
            "specialty": specialty, "members": [{"user_id": user_id, "work_type": work_type}
                                                for user_id, _, work_type in members], "leader_id": leader})
        teams.append(team)
    await _residents(hub, rng, accounts, teams)


def place(village: str) -> str:
    """长兴县雉城街道城东村 for a village code."""
    names = dict(REGIONS)
    return names[village[:6] + "000000"] + names[village[:9] + "000"] + names[village]


async def _residents(hub: Any, rng: random.Random, accounts: dict[str, dict[str, Any]],
                     teams: list[dict[str, Any]]) -> None:
    villages = [code for code, _ in REGIONS if code.endswith(("201", "202", "203"))]
    team_of_town = {"330522100": teams[:2], "330522101": teams[2:], "330522102": teams[2:]}
    doctors = {t["_id"]: await hub.accounts.get_user(t["leader"]) for t in teams}
    population_tags = dict(zip(names := [*residents.KEY_POPULATIONS, *CHRONIC],
                               await hub.roster.tags.ensure(names), strict=True))
    package = await hub.roster.packages.get(None)
    moment = now()
    today = moment.astimezone(CST).date()
    target = hub.config["signing.demo_residents"]
    docs: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    unable: list[dict[str, Any]] = []
    household = 0
    specials = {"resident.zhang": (teams[0], "330522100201"), "resident.liu": (teams[2], "330522101202")}
    for number_in_village, (login, (team, village)) in enumerate(specials.items(), start=1):
        account = accounts[login]
        born = date(1956, 5, 12) if login == "resident.zhang" else date(1968, 9, 3)
        number = idcard.make_id_number("330522", born, 11 if login == "resident.zhang" else 22)
        doc = _resident(account["name"], number, account.get("phone"), village, f"H9{number_in_village:04d}",
                        f"{place(village)}1组1号", ["高血压"], ["高血压"], population_tags, today)
        doc.update(account_id=account["_id"], relation="本人")
        docs.append(doc)
        doctor = accounts["doctor.wang" if login == "resident.zhang" else "doctor.li"]
        records.append(_signing(doc, team, doctor, package, "active", moment - timedelta(days=40), 1))
    sequence = 100
    while len(docs) < target:
        household += 1
        village = rng.choice(villages)
        surname = rng.choice(SURNAMES)
        size = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5))
        address = f"{place(village)}{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        for member in range(size):
            sequence += 1
            age = rng.randint(30, 88) if member < 2 else rng.randint(1, 40)
            born = today - timedelta(days=age * 365 + rng.randint(0, 364))
            chronic = [c for c in CHRONIC if rng.random() < (0.25 if age >= 50 else 0.03)]
            extra = [p for p in ("残疾人", "脱贫人口") if rng.random() < 0.03]
            populations = [c for c in chronic if c in residents.KEY_POPULATIONS] + extra
            phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}" if rng.random() < 0.8 else None
            docs.append(_resident(surname + rng.choice(GIVEN), idcard.make_id_number("330522", born, sequence),
                                  phone, village, f"H{household:05d}", address, populations, chronic,
                                  population_tags, today))
            resident = docs[-1]
            team = rng.choice(team_of_town[village[:9]])
            doctor = doctors[team["_id"]]
            roll = rng.random()
            if roll < 0.55:
                start = moment - timedelta(days=rng.randint(40, 330))
                records.append(_signing(resident, team, doctor, package, "active", start, 1))
            elif roll < 0.62:  # due for renewal within the notice window
                start = moment - timedelta(days=365 - rng.randint(3, 25))
                records.append(_signing(resident, team, doctor, package, "active", start, 1))
            elif roll < 0.66:
                records.append(_signing(resident, team, doctor, package, "pending", None, 1, mode="apply"))
            elif roll < 0.69:
                records.append(_signing(resident, team, doctor, package, "rejected", None, 1, mode="apply",
                                        reason="不在本团队服务范围"))
            elif roll < 0.74:
                records.append(_signing(resident, team, doctor, package, "refused", None, None, reason="暂不需要"))
            elif roll < 0.77:
                records.append(_signing(resident, team, doctor, package, "terminated",
                                        moment - timedelta(days=200), 1, reason="居民要求解约"))
            elif roll < 0.80:
                records.append(_signing(resident, team, doctor, package, "expired",
                                        moment - timedelta(days=400), 1))
            elif roll < 0.815:
                kind = rng.choice(("外迁", "死亡", "服刑"))
                approved = rng.random() < 0.6
                unable.append({"_id": new_id(), "resident_id": resident["_id"], "resident_name": resident["name"],
                               "id_number": resident["id_number"], "region": village, "team_id": team["_id"],
                               "institution_id": team["institution_id"], "kind": kind, "reason": f"经核实已{kind}",
                               "status": "approved" if approved else "pending",
                               "pending_key": resident["_id"] if not approved else None,
                               "requested_by": doctor["_id"], "requested_by_name": doctor["name"],
                               "created_at": moment, "reviewed_by": None, "reviewed_at": None, "note": None})
                if approved:
                    resident["unable"] = {"kind": kind, "request_id": unable[-1]["_id"], "at": moment.isoformat()}
                else:
                    unable[-1]["pending_key"] = resident["_id"]
            if len(docs) >= target:
                break
    for request in unable:
        if request["pending_key"] is None:
            request["pending_key"] = request["_id"]
    _derive(docs, records, moment, hub.config["signing.renewal_notice_days"])
    await hub.roster.residents.insert_many(docs)
    await hub.db.signings.insert_many(records)
    if unable:
        await hub.db.unable_requests.insert_many(unable)


def _resident(name: str, id_number: str, phone: str | None, village: str, household: str, address: str,
              populations: list[str], chronic: list[str], population_tags: dict[str, str], today: date
              ) -> dict[str, Any]:
    parsed = idcard.parse_id_number(id_number)
    populations = residents.derived_populations(parsed.birth_date, populations, today)
    doc = residents.new_resident({
        "name": name, "id_number": parsed.number, "birth_date": parsed.birth_date.isoformat(), "sex": parsed.sex,
        "phone": phone, "address": address, "village": village, "region": village, "household": household,
        "key_populations": populations, "chronic_diseases": chronic}, created_by=None)
    doc["tags"] = [population_tags[n] for n in dict.fromkeys([*populations, *chronic]) if n in population_tags]
    return doc


def _signing(resident: dict[str, Any], team: dict[str, Any], doctor: dict[str, Any], package: dict[str, Any],
             status: str, start: Any, term: int | None, *, mode: str = "entry", reason: str | None = None
             ) -> dict[str, Any]:
    doc = signings.new_signing(resident, team=team, doctor=doctor, mode=mode, status=status,
                               created_by=doctor["_id"], package=package if term else None, term_years=term,
                               start=start, reason=reason)
    if status in ("terminated", "expired") and doc["end"] is not None:
        doc["end"] = min(doc["end"], now() - timedelta(days=1))
    if status == "rejected":
        doc.update(reviewed_by=doctor["_id"], reviewed_at=now())
    return doc


def _derive(docs: list[dict[str, Any]], records: list[dict[str, Any]], moment: Any, notice_days: int) -> None:
    """The same derivation as ``signings.refresh_status``, over the records in memory."""
    by_resident = {r["resident_id"]: r for r in records}
    for doc in docs:
        record = by_resident.get(doc["_id"])
        holder = record if record and record["status"] in signings.HOLDING else None
        active = holder if holder and holder["status"] == "active" else None
        doc["status"] = signings.derive_status(
            unable=bool(doc.get("unable")), active_end=active["end"] if active else None,
            last_closed=record["status"] if record and not holder else None, moment=moment, notice_days=notice_days)
        doc.update(team_id=holder["team_id"] if holder else None,
                   institution_id=holder["institution_id"] if holder else None,
                   doctor_id=holder["doctor_id"] if holder else None, signing_id=active["_id"] if active else None,
                   signing_end=active["end"] if active else None)
