"""我的家庭医生 from real signings: ``GET /api/consultations/doctors`` lists the members of the team the resident's
own record is signed with today — exactly the doctors the plugin lets them consult — and nobody else."""

from __future__ import annotations

from datetime import timedelta

from hub.ids import now
from tests.signing.world import VILLAGE_A, World, id_number

PATH = "/api/consultations/doctors"
TEAM_A1 = ("doctor_a1", "doctor_a2", "assistant_a1", "leader_a1")
STAFF = ("doctor_a1", "doctor_a2", "assistant_a1", "leader_a1", "doctor_a3", "doctor_b1", "doctor_c", "admin_a")


async def listed(world: World, who: str) -> set[str]:
    """The doctors the API lists; the plugin's own answer must be the same (not trimmed by the core's check)."""
    status, data = await world.call(who, "GET", PATH)
    assert status == 200, data
    shown = {d["id"] for d in data["items"]}
    resident = await world.hub.db.users.find_one({"_id": world.id(who)})
    assert set(await world.hub.consultable_doctor_ids(resident)) == shown
    return shown


async def assert_agrees_with_can_consult(world: World, who: str) -> None:
    """Listed exactly when the consultation rule says yes, for every staff member of the world."""
    shown = await listed(world, who)
    resident = await world.hub.db.users.find_one({"_id": world.id(who)})
    for name in STAFF:
        assert (world.id(name) in shown) == await world.hub.may_consult(resident, world.users[name]), name


async def test_resident_sees_the_members_of_their_signed_team(world: World) -> None:
    status, data = await world.call("res1", "GET", PATH)
    assert (status, data) == (200, {"items": [], "next_cursor": None})  # not signed: nobody
    status, me = await world.call("res1", "POST", "/api/signing/family", {
        "name": "测试res1", "id_number": id_number(), "village": VILLAGE_A, "relation": "本人"})
    assert status == 201, me
    status, child = await world.call("res1", "POST", "/api/signing/family", {
        "name": "孩子", "id_number": id_number(), "village": VILLAGE_A, "relation": "子女"})
    assert status == 201, child
    assert (await world.sign("doctor_a3", child["id"]))[0] == 201
    assert await listed(world, "res1") == set()  # a family member's team is not the account's own
    status, application = await world.call("res1", "POST", "/api/signing/applications", {
        "resident_id": me["id"], "team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")})
    assert status == 201 and application["status"] == "pending"
    assert await listed(world, "res1") == set()  # pending is not signed yet
    status, _ = await world.call("doctor_a2", "POST", f"/api/signing/signings/{application['id']}/approve", {})
    assert status == 200

    await world.hub.db.users.update_one({"_id": world.id("doctor_a1")}, {"$set": {
        "phone": "13700000011", "title": "主治医师", "profile": "擅长慢病管理"}})
    status, data = await world.call("res1", "GET", PATH)
    assert status == 200 and {d["id"] for d in data["items"]} == {world.id(n) for n in TEAM_A1}
    by_id = {d["id"]: d for d in data["items"]}
    assert by_id[world.id("doctor_a1")] == {"id": world.id("doctor_a1"), "name": "测试doctor_a1", "role": "doctor",
                                            "title": "主治医师", "work_type": "全科医生", "profile": "擅长慢病管理"}
    assert by_id[world.id("assistant_a1")]["work_type"] == "家庭助理"
    assert "13700000011" not in str(data) and "id_number" not in str(data)
    await assert_agrees_with_can_consult(world, "res1")
    for name in TEAM_A1:  # one tap each: every listed doctor can be consulted
        status, conv = await world.call("res1", "POST", "/api/consultations", {"doctor_id": world.id(name)})
        assert status == 201 and conv["doctor"]["id"] == world.id(name), name
    assert (await world.call("res1", "POST", "/api/consultations", {"doctor_id": world.id("doctor_a3")}))[0] == 403

    # The list follows the team: a doctor moved out of it is gone at once.
    members = [{"user_id": world.id(n), "work_type": w} for n, w in
               (("doctor_a1", "全科医生"), ("assistant_a1", "家庭助理"), ("leader_a1", "全科医生"))]
    status, _ = await world.call("admin_a", "PATCH", f"/api/signing/teams/{world.teams['A1']['_id']}",
                                 {"members": members})
    assert status == 200
    assert await listed(world, "res1") == {world.id(n) for n in ("doctor_a1", "assistant_a1", "leader_a1")}
    await assert_agrees_with_can_consult(world, "res1")

    # Terminated (解约): nobody again.
    status, _ = await world.call("doctor_a1", "POST", f"/api/signing/signings/{application['id']}/terminate",
                                 {"reason": "搬走"})
    assert status == 200
    assert await listed(world, "res1") == set()
    await assert_agrees_with_can_consult(world, "res1")


async def test_signing_keyed_by_the_account_counts_and_ended_terms_do_not(world: World) -> None:
    """The same signings ``can_consult`` reads: one keyed by the account id itself counts, one whose term is over
    does not; another resident's signing lists nothing for this one."""
    await world.hub.db.signings.insert_many([
        {"_id": "legacy", "resident_id": world.id("res2"), "team_id": world.teams["B1"]["_id"], "status": "active",
         "start": now() - timedelta(days=1), "end": now() + timedelta(days=1)},
        {"_id": "over", "resident_id": world.id("res2"), "team_id": world.teams["A2"]["_id"], "status": "active",
         "start": now() - timedelta(days=400), "end": now() - timedelta(days=1)}])
    assert await listed(world, "res2") == {world.id("doctor_b1")}
    await assert_agrees_with_can_consult(world, "res2")
    assert await listed(world, "res1") == set()


async def test_staff_are_refused_and_a_login_is_needed(world: World) -> None:
    for who in ("doctor_a1", "assistant_a1", "leader_a1", "admin_a", "supervisor", "sysadmin"):
        status, data = await world.call(who, "GET", PATH)
        assert status == 403 and data["error"]["code"] == "forbidden", who
    status, data = await world.call(None, "GET", PATH)
    assert status == 401 and data["error"]["code"] == "unauthorized"
