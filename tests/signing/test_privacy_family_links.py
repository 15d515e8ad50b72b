"""Linking a roster record to a resident account takes the team's confirmation; until then the account sees
nothing of the record (issue 7: any account attached a stranger's record by typing a name and an ID number). Also:
the family list masks numbers like every list, a family member's detail view is whole."""

from __future__ import annotations

from typing import Any

from tests.signing.world import VILLAGE_A, VILLAGE_B, World, id_number


async def stranger(world: World, village: str = VILLAGE_A, sign_with: str | None = "doctor_a1") -> dict[str, Any]:
    """A roster record with a phone, held (signed) by ``sign_with``'s team, or unheld; with its whole number."""
    record = await world.resident(name="陌生人", village=village, phone="13855556666")
    if sign_with:
        assert (await world.sign(sign_with, record["id"]))[0] == 201
    doc = await world.hub.db.residents.find_one({"_id": record["id"]})
    return {"id": record["id"], "id_number": doc["id_number"], "village": village}


async def ask(world: World, who: str, record: dict[str, Any], relation: str = "父母") -> tuple[int, Any]:
    return await world.call(who, "POST", "/api/signing/family", {
        "name": "陌生人", "id_number": record["id_number"], "village": record["village"], "relation": relation})


async def sees_nothing(world: World, who: str, record: dict[str, Any]) -> None:
    status, family = await world.call(who, "GET", "/api/signing/family")
    assert status == 200 and family["items"] == []
    for path in (f"/api/signing/residents/{record['id']}", f"/api/signing/family/{record['id']}"):
        assert (await world.call(who, "GET", path))[0] == 403, path
    status, signings = await world.call(who, "GET", "/api/signing/signings")
    assert status == 200 and signings["items"] == []
    status, _ = await world.call(who, "POST", "/api/signing/applications", {
        "resident_id": record["id"], "team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")})
    assert status == 403
    assert (await world.hub.db.residents.find_one({"_id": record["id"]}))["account_id"] != world.id(who)


async def notices(world: World, who: str) -> list[dict[str, Any]]:
    return await world.hub.db.inbox.find({"user": world.id(who), "kind": "family_link"}).to_list()


async def test_a_link_attempt_shows_nothing_until_the_team_confirms(world: World) -> None:
    record = await stranger(world)
    status, link = await ask(world, "res2", record)
    assert status == 202 and link["status"] == "pending" and link["resident_id"] is None
    assert "13855556666" not in str(link) and record["id_number"] not in str(link) and record["id"] not in str(link)
    await sees_nothing(world, "res2", record)
    status, again = await ask(world, "res2", record)
    assert status == 202 and again["id"] == link["id"]  # asking again: the same request
    status, mine = await world.call("res2", "GET", "/api/signing/family/links")
    assert status == 200 and [m["id"] for m in mine["items"]] == [link["id"]]
    assert record["id"] not in str(mine)
    # the holding team is told and sees the request; nobody else does
    for who in ("doctor_a1", "doctor_a2", "assistant_a1", "leader_a1", "admin_a"):
        assert len(await notices(world, who)) == 1, who
        status, pending = await world.call(who, "GET", "/api/signing/family/links")
        assert status == 200 and [p["id"] for p in pending["items"]] == [link["id"]], who
        assert pending["items"][0]["resident_id"] == record["id"]
        assert pending["items"][0]["account"]["phone"] == "139****0002"
    for who in ("doctor_a3", "doctor_b1", "admin_b", "doctor_c"):
        assert await notices(world, who) == [], who
        status, pending = await world.call(who, "GET", "/api/signing/family/links")
        assert status == 200 and pending["items"] == [], who
    assert (await world.call("supervisor", "GET", "/api/signing/family/links"))[0] == 403
    # another team, another institution, a supervisor, the account itself cannot confirm
    path = f"/api/signing/family/links/{link['id']}/approve"
    for who in ("doctor_a3", "doctor_b1", "admin_b", "supervisor", "res2", "res1"):
        assert (await world.call(who, "POST", path, {}))[0] == 403, who
        status, _ = await world.call(who, "GET", f"/api/signing/family/links/{link['id']}")
        assert status == (200 if who == "res2" else 403), who  # the request is the account's own
    await sees_nothing(world, "res2", record)
    # the team confirms: the record is the account's, seen whole on its detail view
    status, done = await world.call("leader_a1", "POST", path, {"note": "已电话核实"})
    assert status == 200 and done["status"] == "confirmed" and done["decided_by_name"] == "测试leader_a1"
    status, family = await world.call("res2", "GET", "/api/signing/family")
    assert [m["id"] for m in family["items"]] == [record["id"]]
    assert family["items"][0]["signing"]["status"] == "active"
    status, detail = await world.call("res2", "GET", f"/api/signing/family/{record['id']}")
    assert status == 200 and detail["phone"] == "13855556666" and detail["id_number"] == record["id_number"]
    assert detail["signing"]["id_number"] == record["id_number"]
    status, mine = await world.call("res2", "GET", "/api/signing/family/links")
    assert mine["items"][0]["resident_id"] == record["id"] and mine["items"][0]["status"] == "confirmed"
    told = await notices(world, "res2")
    assert [n["title"] for n in told] == ["家庭成员关联已确认"] and told[0]["data"]["resident_id"] == record["id"]
    assert (await world.call("doctor_a1", "POST", path, {}))[0] == 409  # decided already
    actions = [e["action"] async for e in world.hub.db.audit.find({"target": link["id"]})]
    assert sorted(actions) == ["signing.family_link_confirm", "signing.family_link_request"]
    status, data = await ask(world, "res1", record)
    assert status == 409 and data["error"]["details"]["reason"] == "managed_elsewhere"


async def test_a_rejected_request_leaves_nothing(world: World) -> None:
    record = await stranger(world)
    status, link = await ask(world, "res2", record)
    assert status == 202
    status, done = await world.call("doctor_a1", "POST", f"/api/signing/family/links/{link['id']}/reject",
                                    {"note": "本人不认识该账号"})
    assert status == 200 and done["status"] == "rejected"
    await sees_nothing(world, "res2", record)
    status, mine = await world.call("res2", "GET", "/api/signing/family/links")
    assert mine["items"][0]["status"] == "rejected" and mine["items"][0]["resident_id"] is None
    assert [n["title"] for n in await notices(world, "res2")] == ["家庭成员关联未通过"]
    assert (await world.call("doctor_a1", "POST", f"/api/signing/family/links/{link['id']}/approve", {}))[0] == 409
    assert (await world.call("doctor_a1", "GET", "/api/signing/family/links"))[1]["items"] == []
    assert [e["action"] async for e in world.hub.db.audit.find({"target": link["id"]})][-1] == \
        "signing.family_link_reject"
    status, again = await ask(world, "res2", record)  # a new request may be made; it waits like the first
    assert status == 202 and again["id"] != link["id"] and again["status"] == "pending"
    status, withdrawn = await world.call("res2", "DELETE", f"/api/signing/family/links/{again['id']}")
    assert status == 200 and withdrawn["status"] == "withdrawn"
    assert (await world.call("res1", "DELETE", f"/api/signing/family/links/{again['id']}"))[0] == 403
    await sees_nothing(world, "res2", record)


async def test_an_unheld_record_is_confirmed_by_its_area_and_one_confirmation_wins(world: World) -> None:
    record = await stranger(world, village=VILLAGE_B, sign_with=None)
    status, first = await ask(world, "res1", record)
    status, second = await ask(world, "res2", record, relation="子女")
    assert first["status"] == second["status"] == "pending"
    assert len(await notices(world, "doctor_b1")) == 2 and len(await notices(world, "admin_b")) == 2
    assert await notices(world, "doctor_a1") == []
    for who in ("doctor_a1", "admin_a"):  # not their area
        assert (await world.call(who, "POST", f"/api/signing/family/links/{first['id']}/approve", {}))[0] == 403
    status, done = await world.call("admin_b", "POST", f"/api/signing/family/links/{second['id']}/approve", {})
    assert status == 200 and done["status"] == "confirmed"
    status, mine = await world.call("res1", "GET", "/api/signing/family/links")
    assert mine["items"][0]["status"] == "superseded" and mine["items"][0]["resident_id"] is None
    await sees_nothing(world, "res1", record)
    status, family = await world.call("res2", "GET", "/api/signing/family")
    assert [m["id"] for m in family["items"]] == [record["id"]] and family["items"][0]["relation"] == "子女"


async def test_a_new_record_is_created_at_once_and_the_family_list_masks(world: World) -> None:
    number = id_number()
    status, me = await world.call("res1", "POST", "/api/signing/family", {
        "name": "测试res1", "id_number": number, "village": VILLAGE_A, "relation": "本人", "phone": "13900000001"})
    assert status == 201 and me["id_number"] == number and me["phone"] == "13900000001"  # one record: whole
    status, family = await world.call("res1", "GET", "/api/signing/family")
    row = family["items"][0]
    assert row["id_number"] == number[:4] + "*" * 12 + number[-2:] and row["phone"] == "139****0001"
    assert row["birth_date"] is None and row["age"] == me["age"]
    status, detail = await world.call("res1", "GET", f"/api/signing/family/{me['id']}")
    assert status == 200 and detail["id_number"] == number and detail["birth_date"] == me["birth_date"]
    assert (await world.call("res2", "GET", f"/api/signing/family/{me['id']}"))[0] == 403


async def test_a_supervisor_lists_the_staff_of_their_own_region_only(world: World) -> None:
    inst = {k: world.institutions[k]["_id"] for k in "ABC"}

    async def staff(who: str, query: str = "") -> set[str]:
        status, data = await world.call(who, "GET", "/api/signing/staff" + query)
        assert status == 200, data
        return {s["institution_id"] for s in data["items"]}

    assert await staff("supervisor_other") == {inst["C"]}
    for key in "AB":
        assert await staff("supervisor_other", f"?institution_id={inst[key]}") == set()
    assert await staff("supervisor_other", f"?team_id={world.teams['A1']['_id']}") == set()
    assert await staff("supervisor") == {inst["A"], inst["B"]}
    assert await staff("supervisor", f"?institution_id={inst['C']}") == set()
    assert await staff("admin_a") == {inst["A"]} and await staff("doctor_b1") == {inst["B"]}
    assert await staff("sysadmin") == set(inst.values())
