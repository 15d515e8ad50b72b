"""Service records (履约记录) and the follow-up plan they re-plan, over real HTTP against a real hub: who may
record for whom, the validated follow-up forms, the edit window and correction entries, serialisation per
resident, and the events."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from hub.ids import CST, iso, now
from tests.services.conftest import hypertension, signed_resident
from tests.signing.world import World

BLOCK = "法轮功"


def days_ago(days: int, hour: int = 9) -> str:
    day = now().astimezone(CST).date() - timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


def day_of(text: str) -> date:
    return date.fromisoformat(text[:10])


async def plan_of(world: World, who: str, resident_id: str) -> dict[str, Any]:
    status, plan = await world.call(who, "GET", f"/api/services/residents/{resident_id}/plan")
    assert status == 200, plan
    return plan


def chain(plan: dict[str, Any], population: str = "高血压") -> list[dict[str, Any]]:
    return [v for v in plan["visits"] if v["population"] == population and v["key"].startswith("f")]


async def test_a_follow_up_is_recorded_and_re_plans_the_resident(world: World, seen: list) -> None:
    resident = await signed_resident(world)
    status, record = await world.call("doctor_a1", "POST", "/api/services/records",
                                      hypertension(days_ago(2), 150, 95, resident["id"]))
    assert status == 201, record
    assert record["followup"] == {"sbp": 150, "dbp": 95} and record["author_id"] == world.id("doctor_a1")
    visits = chain(await plan_of(world, "doctor_a1", resident["id"]))
    assert [(v["key"], v["state"]) for v in visits] == [("f1", "done"), ("f2", "due")]
    seen_on = day_of(days_ago(2))
    assert visits[0]["classification"] == "控制不满意"
    assert visits[1]["latest"] == (seen_on + timedelta(days=14)).isoformat() and not visits[1]["referral"]
    names = [name for name, _ in seen]
    assert names.count("service.recorded") == 1 and "followup.done" in names and "followup.planned" in names
    done = next(p for n, p in seen if n == "followup.done")
    assert done == {"record_id": record["id"], "resident_id": resident["id"], "team_id": world.teams["A1"]["_id"],
                    "population": "高血压", "visit": "f1", "done_on": seen_on.isoformat(), "on_time": True}
    recorded = next(p for n, p in seen if n == "service.recorded")
    assert recorded["type"] == "定期随访" and set(recorded) >= {"record_id", "region", "at"}
    entry = await world.hub.db.audit.find_one({"action": "services.record", "target": record["id"]})
    assert entry is not None
    # a second 不满意 in a row: referral, followed within 2 weeks
    status, _ = await world.call("doctor_a1", "POST", "/api/services/records",
                                 hypertension(days_ago(1), 152, 96, resident["id"]))
    assert status == 201
    last = chain(await plan_of(world, "assistant_a1", resident["id"]))[-1]
    assert last["key"] == "f3" and last["referral"] and last["reason"]


async def test_scope_refusals(world: World) -> None:
    resident = await signed_resident(world)
    body = hypertension(days_ago(1), 120, 80, resident["id"])
    for who in ("doctor_a3", "doctor_b1", "doctor_c", "supervisor", "admin_a", "res1"):
        status, data = await world.call(who, "POST", "/api/services/records", body)
        assert status == 403 and data["error"]["code"] == "forbidden", (who, data)
    for who in ("res1", "supervisor", "admin_a"):  # the role is refused before the body is looked at
        status, data = await world.call(who, "POST", "/api/services/records", {"colour": "red"})
        assert status == 403, (who, data)
    status, data = await world.call("doctor_a1", "POST", "/api/services/records", {**body, "resident_id": "nobody"})
    assert status == 404 and data["error"]["code"] == "not_found"
    unsigned = await world.resident("doctor_a1", key_populations=["高血压"])
    status, data = await world.call("doctor_a1", "POST", "/api/services/records",
                                    {**body, "resident_id": unsigned["id"]})
    assert status == 409 and data["error"]["code"] == "not_signed"
    status, record = await world.call("assistant_a1", "POST", "/api/services/records", body)
    assert status == 201, record  # an assistant of the team may
    for who in ("doctor_a3", "doctor_b1", "res1", "res2"):  # a record out of scope is not there
        status, data = await world.call(who, "GET", f"/api/services/records/{record['id']}")
        assert status == 404 and data["error"]["code"] == "not_found", who
    status, data = await world.call("doctor_a1", "GET", "/api/services/records/no-such-record")
    assert status == 404
    status, data = await world.call("doctor_a3", "GET", f"/api/services/residents/{resident['id']}/plan")
    assert status == 403
    status, data = await world.call("doctor_a1", "GET", "/api/services/residents/nobody/plan")
    assert status == 404
    status, page = await world.call("doctor_a3", "GET", "/api/services/records")
    assert status == 200 and page["items"] == []


async def test_bad_input_is_refused_naming_the_field(world: World) -> None:
    resident = await signed_resident(world)
    good = hypertension(days_ago(1), 120, 80, resident["id"])
    cases = [
        ({**good, "followup": {"dbp": 80}}, "followup.sbp"),
        ({**good, "followup": {"sbp": 400, "dbp": 80}}, "followup.sbp"),
        ({**good, "followup": {"sbp": 120, "dbp": 80, "danger_level": 2}}, "followup.danger_level"),
        ({**good, "followup": {"sbp": 120, "dbp": 80, "colour": "red"}}, "followup.colour"),
        ({**good, "population": "糖尿病", "followup": {"fasting_glucose": 6.0}}, "population"),
        ({**good, "population": "火星人"}, "population"),
        ({**good, "type": "打卡"}, "type"),
        ({**good, "type": "健康教育"}, "type"),  # not a follow-up type, with a form
        ({**good, "at": "yesterday"}, "at"),
        ({**good, "at": (now() + timedelta(days=1)).isoformat()}, "at"),
        ({**good, "item": "不存在的项目"}, "item"),
        ({k: v for k, v in good.items() if k != "content"}, "content"),
        ({**good, "followup": {"sbp": 120, "dbp": 80, "outcome": "终止管理"}}, "followup.end_reason"),
        ({**good, "population": None}, "population"),
        ({**good, "resident_id": {"$ne": None}}, "resident_id"),
    ]
    for body, field in cases:
        status, data = await world.call("doctor_a1", "POST", "/api/services/records", body)
        assert status == 400 and data["error"]["details"].get("field") == field, (field, data)
    assert await world.hub.db.services_records.count_documents({}) == 0
    status, data = await world.call("doctor_a1", "POST", "/api/services/records",
                                    {**good, "content": f"随访{BLOCK}"})
    assert status == 201, data  # screened: refused only once the word is listed
    await world.hub.words.add(world.users["sysadmin"], BLOCK, "block", "测试")
    status, data = await world.call("doctor_a1", "POST", "/api/services/records",
                                    {**good, "content": f"随访{BLOCK}"})
    assert status == 422 and data["error"]["code"] == "content_blocked"
    assert data["error"]["details"]["field"] == "content"


async def test_the_author_edits_within_the_window_then_only_corrections(world: World, seen: list) -> None:
    resident = await signed_resident(world)
    status, record = await world.call("doctor_a1", "POST", "/api/services/records",
                                      hypertension(days_ago(3), 120, 80, resident["id"]))
    assert status == 201
    path = f"/api/services/records/{record['id']}"
    for edit in ({"place": "卫生室"}, {"colour": "red"}):
        status, data = await world.call("doctor_a2", "PATCH", path, edit)
        assert status == 403, data  # not the author, whatever the body
    status, edited = await world.call("doctor_a1", "PATCH", path, {"followup": {"sbp": 150, "dbp": 90}})
    assert status == 200 and edited["followup"] == {"sbp": 150, "dbp": 90}, edited
    assert chain(await plan_of(world, "doctor_a1", resident["id"]))[-1]["latest"] == (
        day_of(days_ago(3)) + timedelta(days=14)).isoformat()  # re-planned: 不满意 → within 2 weeks
    # the window closes
    await world.hub.db.services_records.update_one({"_id": record["id"]},
                                                   {"$set": {"editable_until": now() - timedelta(seconds=1)}})
    status, data = await world.call("doctor_a1", "PATCH", path, {"place": "卫生室"})
    assert status == 409 and data["error"]["code"] == "edit_window_closed", data
    status, data = await world.call("doctor_a1", "POST", f"{path}/corrections", {"place": "卫生室"})
    assert status == 400 and data["error"]["details"]["field"] == "reason"
    status, data = await world.call("doctor_a3", "POST", f"{path}/corrections", {"place": "卫生室", "reason": "录错"})
    assert status == 404  # another team's record is not there
    status, corrected = await world.call("doctor_a2", "POST", f"{path}/corrections",
                                         {"followup": {"sbp": 128, "dbp": 82}, "reason": "血压录错"})
    assert status == 201, corrected
    assert corrected["followup"] == {"sbp": 128, "dbp": 82}
    assert corrected["original"]["followup"] == {"sbp": 150, "dbp": 90}  # the original stays
    assert corrected["corrections"][0]["by"] == world.id("doctor_a2")
    assert corrected["corrections"][0]["reason"] == "血压录错"
    last = chain(await plan_of(world, "doctor_a1", resident["id"]))[-1]
    assert last["latest"] > (day_of(days_ago(3)) + timedelta(days=60)).isoformat()  # back to routine
    assert "service.corrected" in [n for n, _ in seen]
    assert await world.hub.db.audit.count_documents({"target": record["id"]}) == 3  # record, edit, correction


async def test_two_follow_ups_racing_for_one_resident_are_serialised(world: World) -> None:
    """Both follow-ups are in the plan every time: the second one planned sees the first (two 不满意 in a row →
    referral), whichever request the hub took first."""
    for i in range(6):
        resident = await signed_resident(world, name=f"竞争{i}")
        first, second = await asyncio.gather(
            world.call("doctor_a1", "POST", "/api/services/records",
                       hypertension(days_ago(5), 150, 95, resident["id"])),
            world.call("doctor_a2", "POST", "/api/services/records",
                       hypertension(days_ago(4), 155, 96, resident["id"])))
        assert first[0] == 201 and second[0] == 201, (first, second)
        stored = await world.hub.db.services_plans.find_one({"_id": resident["id"]})
        visits = [v for v in stored["visits"] if v["population"] == "高血压" and v["key"].startswith("f")]
        assert [v["state"] for v in visits[:2]] == ["done", "done"], (i, visits)
        assert {v["record_id"] for v in visits[:2]} == {first[1]["id"], second[1]["id"]}
        assert visits[2]["referral"], (i, visits)
        assert stored["version"] == 2


async def test_plan_dates_anchor_the_schedules(world: World) -> None:
    resident = await signed_resident(world, born=date(1995, 3, 3), populations=("孕产妇",))
    status, plan = await world.call("doctor_a1", "GET", f"/api/services/residents/{resident['id']}/plan")
    assert status == 200 and plan["populations"] == ["孕产妇"] and plan["visits"] == []
    assert plan["missing"] == ["expected_delivery"]
    expected = (now().astimezone(CST).date() + timedelta(days=200)).isoformat()
    status, plan = await world.call("doctor_a1", "PUT", f"/api/services/residents/{resident['id']}/plan",
                                    {"expected_delivery": expected})
    assert status == 200, plan
    assert plan["missing"] == [] and plan["dates"] == {"expected_delivery": expected}
    assert [v["key"] for v in plan["visits"] if v["key"].startswith("antenatal")] == [
        f"antenatal{n}" for n in range(1, 6)]
    status, data = await world.call("doctor_a1", "PUT", f"/api/services/residents/{resident['id']}/plan",
                                    {"expected_delivery": "2026-02-30"})
    assert status == 400 and data["error"]["details"]["field"] == "expected_delivery"
    status, data = await world.call("doctor_b1", "PUT", f"/api/services/residents/{resident['id']}/plan",
                                    {"expected_delivery": expected})
    assert status == 403
    status, record = await world.call("doctor_a1", "POST", "/api/services/records", {
        "resident_id": resident["id"], "type": "孕期保健", "population": "孕产妇", "at": iso(now()),
        "content": "产前检查", "followup": {"abnormal": False, "gestational_week": 11}})
    assert status == 201, record
    plan = await plan_of(world, "doctor_a1", resident["id"])
    assert any(v["key"] == "antenatal1" and v["state"] == "done" for v in plan["visits"]), plan["visits"]


async def test_the_team_sees_who_is_due_this_week(world: World) -> None:
    due = await signed_resident(world, name="本周随访")
    await world.call("doctor_a1", "POST", "/api/services/records", hypertension(days_ago(3), 150, 95, due["id"]))
    later = await signed_resident(world, name="三个月后", populations=("糖尿病",))  # no yearly check of its own
    status, _ = await world.call("doctor_a1", "POST", "/api/services/records", {
        "resident_id": later["id"], "type": "定期随访", "population": "糖尿病", "at": days_ago(1),
        "content": "血糖随访", "followup": {"fasting_glucose": 6.1}})
    assert status == 201
    other = await signed_resident(world, "doctor_a3", name="别的团队")
    await world.call("doctor_a3", "POST", "/api/services/records", hypertension(days_ago(3), 150, 95, other["id"]))
    status, page = await world.call("assistant_a1", "GET", "/api/services/due")
    assert status == 200, page
    assert [i["resident_id"] for i in page["items"]] == [due["id"]]
    item = page["items"][0]
    visits = {v["key"]: v for v in item["visits"]}
    assert item["name"] == "本周随访" and visits["f2"]["state"] == "due" and visits["f2"]["population"] == "高血压"
    assert set(visits) <= {"f2", f"y{now().astimezone(CST).year}"}  # and this year's health check, if still open
    status, page = await world.call("doctor_a1", "GET", "/api/services/due?days=62")
    assert {i["resident_id"] for i in page["items"]} == {due["id"]}  # the routine visit opens in ~75 days
    status, page = await world.call("admin_a", "GET", "/api/services/due")
    assert {i["resident_id"] for i in page["items"]} == {due["id"], other["id"]}  # the institution's teams
    status, data = await world.call("doctor_a1", "GET", "/api/services/due?days=100")
    assert status == 400 and data["error"]["details"]["field"] == "days"
    for who in ("res1", "supervisor"):
        status, data = await world.call(who, "GET", "/api/services/due")
        assert status == 403, who


async def test_an_edit_after_a_correction_is_refused(world: World) -> None:
    resident = await signed_resident(world)
    status, record = await world.call("doctor_a1", "POST", "/api/services/records",
                                      hypertension(days_ago(1), 120, 80, resident["id"]))
    path = f"/api/services/records/{record['id']}"
    status, _ = await world.call("doctor_a2", "POST", f"{path}/corrections", {"place": "卫生室", "reason": "地点录错"})
    assert status == 201
    status, data = await world.call("doctor_a1", "PATCH", path, {"place": "家中"})
    assert status == 409 and data["error"]["code"] == "has_corrections"
    status, data = await world.call("doctor_a1", "PATCH", path, {})
    assert status == 409  # the state is checked before the (empty) body
