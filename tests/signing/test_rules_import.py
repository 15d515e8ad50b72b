"""Rules slice, item 4: the Excel import goes through the rules every mode uses (``signings.check_signable``):
no resident outside the importing doctor's area, no takeover of another team's resident, no roster record whose
name differs from the row. The entry mode gets the same answers."""

from __future__ import annotations

import asyncio
from typing import Any

from plugins.signing import locks
from tests.signing.test_imports import finished, upload, xlsx
from tests.signing.world import VILLAGE_A, VILLAGE_B, World, id_number


def row(name: str, number: str, village: str = VILLAGE_A) -> list[Any]:
    return [name, number, None, village, None, None, None, None, None, None, None]


async def imported(world: World, who: str, rows: list[list[Any]]) -> tuple[dict[str, Any], dict[int, str]]:
    status, job = await upload(world, who, xlsx(rows))
    assert status == 202, job
    job = await finished(world, who, job["id"])
    assert job["status"] == "done", job
    errors = (await world.call(who, "GET", f"/api/signing/imports/{job['id']}/errors?limit=50"))[1]["items"]
    return job, {e["row"]: e["errors"][0]["message"] for e in errors}


async def test_import_refuses_residents_outside_the_doctors_area(world: World) -> None:
    """doctor_a1 serves 雉城街道; 和平村 (VILLAGE_B) is 和平镇's, both as a new row and as a roster record."""
    known = await world.resident(name="和平村居民", village=VILLAGE_B)
    number = (await world.hub.db.residents.find_one({"_id": known["id"]}))["id_number"]
    job, errors = await imported(world, "doctor_a1", [row("新和平村居民", id_number(), VILLAGE_B),
                                                      row("和平村居民", number, VILLAGE_B),
                                                      row("本地居民", id_number())])
    assert (job["imported"], job["failed"]) == (1, 2), (job, errors)
    assert "服务范围" in errors[2] and "服务范围" in errors[3], errors
    assert await world.hub.db.signings.count_documents({"region": VILLAGE_B}) == 0
    status, data = await world.sign("doctor_a1", known["id"])  # the entry mode's answer for the same record
    assert status == 403, data


async def test_import_does_not_take_over_another_teams_resident(world: World) -> None:
    """A resident of the shared town held by team A2 stays A2's, whatever the state of A2's record."""
    theirs = await world.resident(name="二团队居民")
    assert (await world.sign("doctor_a3", theirs["id"]))[0] == 201
    number = (await world.hub.db.residents.find_one({"_id": theirs["id"]}))["id_number"]
    job, errors = await imported(world, "doctor_a1", [row("二团队居民", number)])
    assert (job["imported"], job["failed"]) == (0, 1) and "服务范围" in errors[2], (job, errors)
    held = await world.hub.db.signings.find({"resident_id": theirs["id"], "status": "active"}).to_list()
    assert [s["team_id"] for s in held] == [world.teams["A2"]["_id"]]
    resident = await world.hub.db.residents.find_one({"_id": theirs["id"]})
    assert resident["team_id"] == world.teams["A2"]["_id"]


async def test_import_refuses_a_roster_record_whose_name_differs(world: World) -> None:
    known = await world.resident(name="张三")
    number = (await world.hub.db.residents.find_one({"_id": known["id"]}))["id_number"]
    job, errors = await imported(world, "doctor_a1", [row("李四", number), row("张 三", id_number())])
    assert (job["imported"], job["failed"]) == (1, 1), (job, errors)
    assert "姓名" in errors[2], errors
    assert await world.hub.db.signings.count_documents({"resident_id": known["id"]}) == 0
    # the entry mode: the same refusal, and the right name signs
    status, data = await world.call("doctor_a1", "POST", "/api/signing/signings", {
        "resident": {"name": "李四", "id_number": number, "village": VILLAGE_A}})
    assert status == 409 and data["error"]["code"] == "name_mismatch", data
    job, errors = await imported(world, "doctor_a1", [row("张三", number)])
    assert job["imported"] == 1, (job, errors)


async def test_import_takes_the_residents_lease(world: World) -> None:
    """The import's batches hold the leases of the residents they sign: a resident whose lease another change
    holds is reported (busy), not signed, and the import leaves no lease behind."""
    held = await world.resident(name="正在办理")
    free = await world.resident(name="空闲")
    numbers = {r["id"]: (await world.hub.db.residents.find_one({"_id": r["id"]}))["id_number"] for r in (held, free)}
    other = await world.hub.locks.acquire(locks.lock_name(held["id"]), ttl_secs=300)  # another change's
    assert other is not None
    job, errors = await imported(world, "doctor_a1", [row("正在办理", numbers[held["id"]]),
                                                      row("空闲", numbers[free["id"]])])
    assert (job["imported"], job["failed"]) == (1, 1) and errors[2] == locks.Busy.message, (job, errors)
    assert await world.hub.db.signings.count_documents({"resident_id": held["id"]}) == 0
    assert await world.hub.locks.acquire(locks.lock_name(free["id"]), ttl_secs=1) is not None  # let go
    assert await world.hub.locks.release(other) is True  # the other's is still the other's


async def test_import_racing_unable_approvals(world: World) -> None:
    """An import of 20 residents while a supervisor approves their unable-to-sign requests: whatever the order,
    no resident approved 无法签约 is left holding an active signing."""
    people = [await world.resident(name=f"导入竞争{i}") for i in range(20)]
    requests = []
    for person in people:
        status, request = await world.call("doctor_a1", "POST", "/api/signing/unable-requests",
                                           {"resident_id": person["id"], "kind": "外迁", "reason": "经核实"})
        assert status == 201, request
        requests.append(request)
    numbers = [(await world.hub.db.residents.find_one({"_id": p["id"]}))["id_number"] for p in people]
    status, job = await upload(world, "doctor_a1", xlsx([row(p["name"], n) for p, n in zip(people, numbers,
                                                                                             strict=True)]))
    assert status == 202, job
    approvals = await asyncio.gather(*(world.call("supervisor", "POST", f"/api/signing/unable-requests/{r['id']}"
                                                  "/approve", {}) for r in requests))
    assert all(status == 200 for status, _ in approvals), approvals
    job = await finished(world, "doctor_a1", job["id"])
    assert job["status"] == "done" and job["imported"] + job["failed"] == 20, job
    for person in people:
        assert await world.hub.db.signings.count_documents({"resident_id": person["id"], "status": "active"}) == 0
        assert (await world.hub.db.residents.find_one({"_id": person["id"]}))["status"] == "unable"
