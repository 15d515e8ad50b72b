"""Regions, institutions, teams with their adjustment history, staff accounts, packages — roles and scopes."""

from __future__ import annotations

from tests.signing.world import REGIONS_CSV, World
from tests.support import PASSWORD, api, login


async def test_regions_load_from_a_file_and_list_by_parent(world: World) -> None:
    status, data = await world.call("sysadmin", "GET", "/api/signing/regions?parent=330522000000")
    assert status == 200 and [r["name"] for r in data["items"]] == ["雉城街道", "和平镇"]
    assert data["items"][0] == {"code": "330522100000", "name": "雉城街道", "level": "town", "parent": "330522000000"}
    status, data = await world.call("doctor_a1", "GET", "/api/signing/regions?parent=330522100000")
    assert [r["level"] for r in data["items"]] == ["village", "village"]
    status, data = await world.call("sysadmin", "GET", "/api/signing/regions?parent=12")
    assert status == 400 and data["error"]["code"] == "invalid_input"
    for raw, field in ((b"330522100203,\n", "errors"), (b"330599100201,Orphan village\n", "missing"), (b"", "field")):
        status, data = await world.call("sysadmin", "POST", "/api/signing/regions", raw=raw)
        assert status == 400 and field in data["error"]["details"], data
    status, data = await world.call("supervisor", "POST", "/api/signing/regions", raw=b"330522100203,New\n")
    assert status == 403
    assert await world.hub.db.regions.count_documents({}) == 11


async def test_institutions_sysadmin_only_and_listed_by_region(world: World) -> None:
    body = {"name": "新机构", "kind": "卫生院", "region": "330522101000"}
    assert (await world.call("admin_a", "POST", "/api/signing/institutions", body))[0] == 403
    status, data = await world.call("sysadmin", "POST", "/api/signing/institutions", {**body, "kind": "医院"})
    assert status == 400 and data["error"]["details"]["field"] == "kind"
    status, data = await world.call("sysadmin", "POST", "/api/signing/institutions", {**body, "region": "330522109000"})
    assert status == 404
    status, created = await world.call("sysadmin", "POST", "/api/signing/institutions", body)
    assert status == 201 and created["region"] == "330522101000"
    assert (await world.call("sysadmin", "POST", "/api/signing/institutions", body))[0] == 409
    status, data = await world.call("res1", "GET", "/api/signing/institutions?region=330522000000")
    assert status == 200 and len(data["items"]) == 3
    status, data = await world.call("res1", "GET", f"/api/signing/institutions/{world.institutions['A']['_id']}")
    assert status == 200 and sorted(t["name"] for t in data["teams"]) == ["团队A1", "团队A2"]
    actions = [e["action"] async for e in world.hub.db.audit.find({"target": created["id"]})]
    assert actions == ["signing.institution_create"]


async def test_staff_created_by_admin_of_their_institution_only(world: World) -> None:
    inst_a, inst_b = world.institutions["A"]["_id"], world.institutions["B"]["_id"]
    body = {"username": "nurse_a", "password": PASSWORD, "role": "assistant", "name": "新护士", "work_type": "护士"}
    status, created = await world.call("admin_a", "POST", "/api/signing/staff", body)
    assert status == 201 and created["institution_id"] == inst_a and created["work_type"] == "护士"
    status, _ = await world.call("admin_a", "POST", "/api/signing/staff",
                                 {**body, "username": "nurse_b", "institution_id": inst_b})
    assert status == 403
    status, data = await world.call("admin_a", "POST", "/api/signing/staff",
                                    {**body, "username": "boss", "role": "supervisor"})
    assert status == 400 and data["error"]["details"]["field"] == "role"
    status, _ = await world.call("sysadmin", "POST", "/api/signing/staff", {
        "username": "sup3", "password": PASSWORD, "role": "supervisor", "name": "监督", "region": "330522101000"})
    assert status == 201
    for who in ("doctor_a1", "res1"):
        assert (await world.call(who, "POST", "/api/signing/staff", {**body, "username": "x" + who}))[0] == 403
    status, data = await world.call("admin_a", "GET", "/api/signing/staff")
    assert status == 200 and {s["institution_id"] for s in data["items"]} == {inst_a}
    assert (await world.call("res1", "GET", "/api/signing/staff"))[0] == 403


async def test_team_changes_leave_history_and_follow_scopes(world: World) -> None:
    team = world.teams["A1"]
    path = f"/api/signing/teams/{team['_id']}"
    status, data = await world.call("res1", "GET", path)
    assert status == 200 and data["leader_id"] == world.id("leader_a1")
    assert {m["work_type"] for m in data["members"]} == {"全科医生", "家庭助理"}
    # the institution admin moves a doctor out and changes the leader
    members = [{"user_id": world.id(n), "work_type": w} for n, w in
               (("doctor_a1", "全科医生"), ("assistant_a1", "家庭助理"), ("leader_a1", "全科医生"))]
    status, data = await world.call("admin_a", "PATCH", path, {"members": members, "leader_id": world.id("doctor_a1")})
    assert status == 200 and data["leader_id"] == world.id("doctor_a1")
    assert (await world.hub.db.users.find_one({"_id": world.id("doctor_a2")}))["team_id"] is None
    # the team leader edits the contact but may not change the leader; another institution's admin may do neither
    status, _ = await world.call("leader_a1", "PATCH", path, {"contact": "0572-1234567"})
    assert status == 200
    assert (await world.call("leader_a1", "PATCH", path, {"leader_id": world.id("leader_a1")}))[0] == 403
    assert (await world.call("admin_b", "PATCH", path, {"contact": "x"}))[0] == 403
    assert (await world.call("doctor_a1", "PATCH", path, {"contact": "x"}))[0] == 403
    status, data = await world.call("admin_a", "PATCH", path, {"members": [{"user_id": world.id("doctor_b1")}]})
    assert status == 400  # not of this institution
    status, history = await world.call("leader_a1", "GET", path + "/history")
    assert status == 200 and [h["kind"] for h in history["items"]] == ["adjusted", "created"]
    assert history["items"][0]["removed"] == [world.id("doctor_a2")]
    assert history["items"][0]["leader_from"] == world.id("leader_a1")
    assert history["items"][0]["leader_to"] == world.id("doctor_a1")
    assert (await world.call("supervisor", "GET", path + "/history"))[0] == 200
    for who in ("res1", "doctor_b1", "supervisor_other"):
        assert (await world.call(who, "GET", path + "/history"))[0] == 403, who
    # teams: staff see their institution's, supervisors their region's, residents all
    counts = {}
    for who in ("doctor_b1", "supervisor", "supervisor_other", "res1"):
        counts[who] = len((await world.call(who, "GET", "/api/signing/teams"))[1]["items"])
    assert counts == {"doctor_b1": 1, "supervisor": 3, "supervisor_other": 1, "res1": 4}
    status, team_new = await world.call("admin_b", "POST", "/api/signing/teams", {"name": "团队B2", "members": []})
    assert status == 201 and team_new["institution_id"] == world.institutions["B"]["_id"]
    status, _ = await world.call("admin_b", "POST", "/api/signing/teams",
                                 {"name": "团队X", "institution_id": world.institutions["A"]["_id"]})
    assert status == 403
    status, data = await world.call("admin_b", "POST", "/api/signing/teams",
                                    {"name": "团队B3", "members": [{"user_id": world.id("doctor_b1")}]})
    assert status == 409  # already in team B1


async def test_doctor_profile_and_packages(world: World) -> None:
    status, data = await world.call("res1", "GET", f"/api/signing/doctors/{world.id('doctor_a1')}")
    assert status == 200 and data["team"]["name"] == "团队A1" and "phone" not in data
    assert (await world.call("res1", "GET", f"/api/signing/doctors/{world.id('res2')}"))[0] == 400
    status, data = await world.call("res1", "GET", "/api/signing/packages")
    assert status == 200 and data["items"][0]["standard"] and data["items"][0]["term_years"] == 1
    body = {"name": "高血压特色包", "kind": "special", "items": [{"name": "血压测量", "times_per_year": 12}],
            "term_years": 2}
    assert (await world.call("doctor_a1", "POST", "/api/signing/packages", body))[0] == 403
    status, data = await world.call("sysadmin", "POST", "/api/signing/packages", {**body, "term_years": 4})
    assert status == 400 and data["error"]["details"]["field"] == "term_years"
    status, data = await world.call("admin_a", "POST", "/api/signing/packages", body)
    assert status == 201 and data["kind"] == "special"


async def test_regions_file_loaded_at_start_up(make_hub, tmp_path) -> None:
    path = tmp_path / "regions.csv"
    path.write_text(REGIONS_CSV, encoding="utf-8")
    running = await make_hub(plugins={"signing": True, "example_greeter": False}, plugin_modules=[],
                             **{"signing.regions_file": str(path)})
    await running.hub.accounts.create_user(username="doc", password=PASSWORD, role="doctor", name="医生")
    status, data = await api(running.url, "GET", "/api/signing/regions?parent=330523000000",
                             await login(running.url, "doc"))
    assert status == 200 and [r["name"] for r in data["items"]] == ["递铺街道"]
