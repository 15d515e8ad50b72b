"""Rules slice, item 6: a region code that names no place is refused wherever one is given; a refusal (拒签) is
counted once; no refusal is recorded for a resident approved as unable to sign (死亡 or another reason)."""

from __future__ import annotations

from tests.signing.test_signings import unable
from tests.signing.world import VILLAGE_A, World

BAD_CODES = ("000000000000", "990000000000", "330522000201", "330000001000")
UNKNOWN = "330522109000"  # well formed, but no such town in the roster


async def test_region_upload_refuses_codes_that_name_no_place(world: World) -> None:
    for code in BAD_CODES:
        status, data = await world.call("sysadmin", "POST", "/api/signing/regions", raw=f"{code},无此地\n".encode(),
                                        headers={"Content-Type": "text/csv"})
        assert status == 400, (code, data)
    assert await world.hub.db.regions.count_documents({"name": "无此地"}) == 0
    status, data = await world.call("sysadmin", "POST", "/api/signing/regions", raw="330522109201,孤村\n".encode(),
                                    headers={"Content-Type": "text/csv"})
    assert status == 400 and data["error"]["details"]["missing"] == [UNKNOWN], data  # its town is unknown


async def test_every_stored_code_must_exist(world: World) -> None:
    for code in (*BAD_CODES, UNKNOWN, "330522100299"):
        status, data = await world.call("sysadmin", "POST", "/api/signing/residents",
                                        {"name": "某人", "id_number": "33052219690918629X", "village": code})
        assert status == 400 and data["error"]["details"]["field"] == "village", (code, data)
        status, data = await world.call("sysadmin", "POST", "/api/signing/institutions",
                                        {"name": f"机构{code}", "kind": "卫生院", "region": code})
        assert status in (400, 404) and data["error"]["code"] in ("invalid_input", "not_found"), (code, data)
        status, data = await world.call("sysadmin", "POST", "/api/signing/staff", {
            "username": f"sup{code}", "password": "password123", "name": "监督", "role": "supervisor",
            "region": code})
        assert status in (400, 404) and data["error"]["code"] in ("invalid_input", "not_found"), (code, data)
    status, data = await world.call("doctor_a1", "PATCH", "/api/signing/residents/x", {"village": "000000000000"})
    assert status in (400, 404)
    assert await world.hub.db.residents.count_documents({}) == 0
    assert await world.hub.db.institutions.count_documents({"name": {"$regex": "^机构"}}) == 0


async def test_a_refusal_counts_once(world: World) -> None:
    resident = await world.resident(name="拒签一次")
    path = f"/api/signing/residents/{resident['id']}/refusal"
    assert (await world.call("doctor_a1", "POST", path, {"reason": "暂不需要"}))[0] == 201
    for who in ("doctor_a1", "doctor_a2"):
        status, data = await world.call(who, "POST", path, {"reason": "还是不需要"})
        assert status == 409 and data["error"]["code"] == "already_refused", data
    assert await world.hub.db.signings.count_documents({"resident_id": resident["id"], "status": "refused"}) == 1
    status, progress = await world.call("doctor_a1", "GET", "/api/signing/signings/progress")
    assert progress["counts"]["refused"] == 1
    # after a signing and its end, a new refusal is a new fact
    status, signing = await world.sign("doctor_a1", resident["id"])
    assert status == 201
    await world.call("doctor_a1", "POST", f"/api/signing/signings/{signing['id']}/terminate", {"reason": "搬家"})
    assert (await world.call("doctor_a1", "POST", path, {"reason": "暂不需要"}))[0] == 201


async def test_no_refusal_for_a_resident_unable_to_sign(world: World) -> None:
    for kind in ("死亡", "外迁"):
        resident = await world.resident(name=f"已{kind}", village=VILLAGE_A)
        await unable(world, "doctor_a1", "supervisor", resident["id"], kind=kind)
        status, data = await world.call("doctor_a1", "POST", f"/api/signing/residents/{resident['id']}/refusal",
                                        {"reason": "拒绝"})
        assert status == 409 and data["error"]["code"] == "unable_to_sign", data
        assert ("死亡" in data["error"]["message"]) == (kind == "死亡")
        assert await world.hub.db.signings.count_documents({"resident_id": resident["id"]}) == 0
        stored = await world.hub.db.residents.find_one({"_id": resident["id"]})
        assert stored["status"] == "unable"
