"""The reasons and notes of signing decisions are declared screened text (``schemas``), screened at the edge: for
each one a blocked word is 422 ``content_blocked`` naming the field and changes nothing, a masked word is stored
masked. Each test fails if that field's screening were dropped."""

from __future__ import annotations

from typing import Any

import pytest

from tests.signing.world import World

BLOCK, MASK, ALERT = "法轮功", "傻逼", "代开发票"


@pytest.fixture
async def words(world: World) -> None:
    for word, action in ((BLOCK, "block"), (MASK, "mask"), (ALERT, "alert")):
        await world.hub.words.add(world.users["sysadmin"], word, action, "测试")
    await world.hub.words.refresh()  # add() only announces the change: the engine is rebuilt off the request


def blocked(reply: tuple[int, Any], field: str) -> bool:
    status, data = reply
    return status == 422 and data["error"]["code"] == "content_blocked" and data["error"]["details"]["field"] == field


async def signing_doc(world: World, signing_id: str) -> dict[str, Any]:
    return await world.hub.db.signings.find_one({"_id": signing_id})


async def unable_doc(world: World, request_id: str) -> dict[str, Any]:
    return await world.hub.db.signing_unable_requests.find_one({"_id": request_id})


async def pending_application(world: World) -> str:
    resident = await world.resident()
    await world.hub.db.residents.update_one({"_id": resident["id"]},
                                            {"$set": {"account_id": world.id("res1"), "relation": "其他"}})
    status, application = await world.call("res1", "POST", "/api/signing/applications", {
        "resident_id": resident["id"], "team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")})
    assert status == 201, application
    return application["id"]


async def unable_request(world: World) -> str:
    resident = await world.resident()
    status, request = await world.call("doctor_a1", "POST", "/api/signing/unable-requests",
                                       {"resident_id": resident["id"], "kind": "外迁", "reason": "经核实"})
    assert status == 201, request
    return request["id"]


async def test_a_rejection_reason_is_screened(world: World, words: None) -> None:
    signing_id = await pending_application(world)
    path = f"/api/signing/signings/{signing_id}/reject"
    assert blocked(await world.call("doctor_a1", "POST", path, {"reason": f"不在{BLOCK}范围"}), "reason")
    assert (await signing_doc(world, signing_id))["status"] == "pending"
    status, data = await world.call("doctor_a1", "POST", path, {"reason": f"{MASK}，不在服务范围"})
    assert status == 200, data
    assert (await signing_doc(world, signing_id))["reason"] == "**，不在服务范围"


async def test_a_termination_reason_is_screened(world: World, words: None) -> None:
    resident = await world.resident()
    status, signing = await world.sign("doctor_a1", resident["id"])
    assert status == 201, signing
    path = f"/api/signing/signings/{signing['id']}/terminate"
    assert blocked(await world.call("doctor_a1", "POST", path, {"reason": BLOCK}), "reason")
    assert (await signing_doc(world, signing["id"]))["status"] == "active"
    status, data = await world.call("doctor_a1", "POST", path, {"reason": f"搬走了{MASK}"})
    assert status == 200, data
    stored = await signing_doc(world, signing["id"])
    assert (stored["status"], stored["reason"]) == ("terminated", "搬走了**")


async def test_a_refusal_reason_is_screened(world: World, words: None) -> None:
    resident = await world.resident()
    path = f"/api/signing/residents/{resident['id']}/refusal"
    assert blocked(await world.call("doctor_a1", "POST", path, {"reason": BLOCK}), "reason")
    assert await world.hub.db.signings.count_documents({"resident_id": resident["id"]}) == 0
    status, record = await world.call("doctor_a1", "POST", path, {"reason": f"{MASK}不签"})
    assert status == 201, record
    assert (await signing_doc(world, record["id"]))["reason"] == "**不签"


async def test_an_unable_request_reason_is_screened(world: World, words: None) -> None:
    resident = await world.resident()
    body = {"resident_id": resident["id"], "kind": "外迁", "reason": f"全家{BLOCK}"}
    assert blocked(await world.call("doctor_a1", "POST", "/api/signing/unable-requests", body), "reason")
    assert await world.hub.db.signing_unable_requests.count_documents({}) == 0
    status, request = await world.call("doctor_a1", "POST", "/api/signing/unable-requests",
                                       {**body, "reason": f"全家{MASK}搬走"})
    assert status == 201, request
    assert (await unable_doc(world, request["id"]))["reason"] == "全家**搬走"


async def test_an_unable_review_note_is_screened(world: World, words: None) -> None:
    request_id = await unable_request(world)
    path = f"/api/signing/unable-requests/{request_id}/reject"
    assert blocked(await world.call("supervisor", "POST", path, {"note": BLOCK}), "note")
    assert (await unable_doc(world, request_id))["status"] == "pending"
    status, data = await world.call("supervisor", "POST", path, {"note": f"材料{MASK}不全"})
    assert status == 200, data
    stored = await unable_doc(world, request_id)
    assert (stored["status"], stored["note"]) == ("rejected", "材料**不全")


async def test_a_lift_reason_is_screened_and_an_alert_names_its_field(world: World, words: None) -> None:
    request_id = await unable_request(world)
    assert (await world.call("supervisor", "POST", f"/api/signing/unable-requests/{request_id}/approve", {}))[0] == 200
    path = f"/api/signing/unable-requests/{request_id}/lift"
    assert blocked(await world.call("supervisor", "POST", path, {"reason": BLOCK}), "reason")
    assert (await unable_doc(world, request_id))["status"] == "approved"
    status, data = await world.call("supervisor", "POST", path, {"reason": f"已回来{MASK}，{ALERT}"})
    assert status == 200, data
    stored = await unable_doc(world, request_id)
    assert (stored["status"], stored["lift_reason"]) == ("lifted", f"已回来**，{ALERT}")
    [alert] = await world.hub.db.alerts.find({"words": ALERT}).to_list()
    assert alert["where"]["plugin"] == "signing" and alert["where"]["field"] == "reason"
    assert alert["where"]["object"] == "signing_decision" and request_id in alert["where"]["path"]
