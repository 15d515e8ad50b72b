"""Service requests (申请服务) over real HTTP: a signed resident's account asks for an item of the package, the
team accepts, schedules, completes or declines it, notices go both ways, and the resident sees requests,
records and the package cycle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.ids import iso, now
from tests.services.conftest import hypertension, signed_resident
from tests.signing.world import World
from tests.support import wait_for


def later(days: int = 2) -> str:
    return iso(now() + timedelta(days=days)) or ""


async def notices(world: World, who: str) -> list[dict[str, Any]]:
    return await world.hub.db.inbox.find({"user": world.id(who), "kind": "service"}).sort("_id", 1).to_list()


async def ask(world: World, who: str, resident_id: str, **extra: Any) -> tuple[int, Any]:
    return await world.call(who, "POST", "/api/services/requests", {"resident_id": resident_id, "item": "慢性病随访",
                                                                   "preferred_at": later(), "note": "上午在家",
                                                                   **extra})


async def test_a_request_from_asking_to_done_with_notices_both_ways(world: World, seen: list) -> None:
    resident = await signed_resident(world, account="res1")
    status, request = await ask(world, "res1", resident["id"])
    assert status == 201, request
    assert request["status"] == "pending" and request["item"] == "慢性病随访" and request["note"] == "上午在家"
    await wait_for(lambda: notices(world, "doctor_a1"), "the team's notice of the request")
    for member in ("doctor_a2", "assistant_a1", "leader_a1"):
        await wait_for(lambda m=member: notices(world, m), f"{member}'s notice")
    assert await notices(world, "doctor_a3") == []  # another team
    note = (await notices(world, "doctor_a1"))[0]
    assert note["title"] == "新的服务申请" and note["data"]["request_id"] == request["id"]
    path = f"/api/services/requests/{request['id']}"
    status, data = await world.call("doctor_a1", "POST", f"{path}/accept", {})
    assert status == 200 and data["status"] == "accepted", data
    status, data = await world.call("assistant_a1", "POST", f"{path}/schedule", {"scheduled_at": later(3)})
    assert status == 200 and data["status"] == "scheduled" and data["scheduled_at"]
    status, record = await world.call("doctor_a1", "POST", "/api/services/records",
                                      hypertension(iso(now()) or "", 126, 78, resident["id"]))
    assert status == 201
    status, data = await world.call("doctor_a1", "POST", f"{path}/complete", {"record_id": record["id"]})
    assert status == 200 and data["status"] == "completed" and data["record_id"] == record["id"]
    assert [h["status"] for h in data["history"]] == ["pending", "accepted", "scheduled", "completed"]
    await wait_for(lambda: _count(world, "res1", 3), "the resident's three notices")
    titles = [n["title"] for n in await notices(world, "res1")]
    assert titles == ["服务申请已受理", "服务已预约", "服务已完成"]
    status, data = await world.call("doctor_a1", "POST", f"{path}/accept", {})
    assert status == 409 and data["error"]["code"] == "wrong_state"
    changed = [p["status"] for n, p in seen if n == "service.request_changed"]
    assert changed == ["accepted", "scheduled", "completed"]
    assert await world.hub.db.audit.count_documents({"target": request["id"]}) == 4
    # the resident sees the request, the record and the cycle
    status, mine = await world.call("res1", "GET", "/api/services/requests")
    assert status == 200 and [r["id"] for r in mine["items"]] == [request["id"]]
    status, records = await world.call("res1", "GET", f"/api/services/records?resident_id={resident['id']}")
    assert status == 200 and [r["id"] for r in records["items"]] == [record["id"]]
    status, cycle = await world.call("res1", "GET", f"/api/services/residents/{resident['id']}/cycle")
    assert status == 200 and cycle["signed"] and cycle["package"]["name"] == "基础服务包", cycle
    items = {i["name"]: i for i in cycle["items"]}
    assert items["慢性病随访"] == {**items["慢性病随访"], "times_per_year": 4, "done": 1, "left": 3}
    assert items["健康评估"]["done"] == 0 and items["健康评估"]["left"] == 1
    status, plan = await world.call("res1", "GET", f"/api/services/residents/{resident['id']}/plan")
    assert status == 200 and plan["visits"]


async def _count(world: World, who: str, n: int) -> bool:
    return len(await notices(world, who)) >= n


async def test_who_may_ask_and_for_whom(world: World) -> None:
    resident = await signed_resident(world, account="res1")
    status, data = await ask(world, "res2", resident["id"])  # not in res2's family
    assert status == 403 and data["error"]["details"]["reason"] == "not_family", data
    status, data = await ask(world, "doctor_a1", resident["id"])
    assert status == 403
    status, data = await world.call("doctor_a1", "POST", "/api/services/requests", {"colour": "red"})
    assert status == 403  # the role first, then the input
    status, data = await ask(world, "res1", "nobody")
    assert status == 404 and data["error"]["code"] == "not_found"
    status, data = await ask(world, "res1", resident["id"], item="心脏移植")
    assert status == 400 and data["error"]["details"]["field"] == "item"
    status, data = await ask(world, "res1", resident["id"], preferred_at=iso(now() - timedelta(days=1)))
    assert status == 400 and data["error"]["details"]["field"] == "preferred_at"
    status, data = await ask(world, "res1", resident["id"], preferred_at="soon")
    assert status == 400 and data["error"]["details"]["field"] == "preferred_at"
    status, data = await ask(world, "res1", resident["id"], colour="red")
    assert status == 400 and data["error"]["details"]["field"] == "colour"
    unsigned = await world.resident("doctor_a1")
    await world.hub.db.residents.update_one({"_id": unsigned["id"]}, {"$set": {"account_id": world.id("res1")}})
    status, data = await ask(world, "res1", unsigned["id"])
    assert status == 409 and data["error"]["code"] == "not_signed"


async def test_the_team_alone_handles_a_request(world: World) -> None:
    resident = await signed_resident(world, account="res1")
    status, request = await ask(world, "res1", resident["id"])
    assert status == 201
    path = f"/api/services/requests/{request['id']}"
    for who in ("doctor_a3", "doctor_b1", "res2"):
        status, data = await world.call(who, "POST", f"{path}/accept", {})
        assert status == 404, (who, data)  # not in their scope: not there
    status, data = await world.call("res1", "POST", f"{path}/accept", {})
    assert status == 403
    status, data = await world.call("res1", "POST", f"{path}/decline", {"reason": 5})
    assert status == 403  # not the account's step, whatever the body
    status, data = await world.call("supervisor", "POST", f"{path}/accept", {})
    assert status == 403
    status, data = await world.call("doctor_a1", "POST", f"{path}/decline", {})
    assert status == 400 and data["error"]["details"]["field"] == "reason"
    status, data = await world.call("doctor_a1", "POST", f"{path}/schedule", {"scheduled_at": "tomorrow"})
    assert status == 400 and data["error"]["details"]["field"] == "scheduled_at"
    status, data = await world.call("doctor_a1", "POST", f"{path}/complete", {})
    assert status == 409 and data["error"]["code"] == "wrong_state"  # not accepted yet
    status, data = await world.call("doctor_a1", "POST", f"{path}/decline", {"reason": "本周医生外出培训"})
    assert status == 200 and data["status"] == "declined" and data["reason"] == "本周医生外出培训"
    await wait_for(lambda: _count(world, "res1", 1), "the resident's notice of the decline")
    note = (await notices(world, "res1"))[0]
    assert note["title"] == "服务申请未受理" and "本周医生外出培训" in note["body"]
    status, data = await world.call("res1", "POST", f"{path}/cancel", {})
    assert status == 409
    # the account cancels an open one; the team hears of it
    status, second = await ask(world, "res1", resident["id"])
    status, data = await world.call("res1", "POST", f"/api/services/requests/{second['id']}/cancel", {})
    assert status == 200 and data["status"] == "cancelled"
    await wait_for(lambda: _titles_include(world, "doctor_a1", "服务申请已取消"), "the team's notice of the cancel")
    status, page = await world.call("doctor_a3", "GET", "/api/services/requests")
    assert status == 200 and page["items"] == []
    status, page = await world.call("doctor_a1", "GET", "/api/services/requests?status=declined")
    assert [r["id"] for r in page["items"]] == [request["id"]]


async def _titles_include(world: World, who: str, title: str) -> bool:
    return title in [n["title"] for n in await notices(world, who)]


async def test_the_catalogue(world: World) -> None:
    status, data = await world.call("res1", "GET", "/api/services/catalogue")
    assert status == 200
    assert "定期随访" in data["record_types"] and "健康体检" in data["record_types"]
    assert {p["name"] for p in data["populations"]} == {"高血压", "糖尿病", "严重精神障碍", "老年人", "孕产妇",
                                                        "0-6岁儿童"}
    standard = next(p for p in data["packages"] if p["standard"])
    assert {"name": "慢性病随访", "times_per_year": 4} in standard["items"]
