"""The signing rules and modes: application and review, entry on the spot, picking from the roster, one signing
per resident (also under concurrency), the term limit, renewal, termination, refusal, unable-to-sign, events."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hub.ids import now, parse_time
from plugins.signing.signings import service
from tests.signing.world import VILLAGE_A, VILLAGE_B, VILLAGE_C, World, id_number


async def family_member(world: World, who: str = "res1", relation: str = "本人", village: str = VILLAGE_A) -> dict:
    status, data = await world.call(who, "POST", "/api/signing/family", {
        "name": f"{who}的{relation}", "id_number": id_number(), "village": village, "relation": relation,
        "key_populations": ["高血压"], "chronic_diseases": ["高血压"]})
    assert status == 201, data
    return data


async def test_resident_applies_and_doctor_reviews(world: World, events: list) -> None:
    me = await family_member(world)
    child = await family_member(world, relation="子女")
    team = world.teams["A1"]
    body = {"resident_id": me["id"], "team_id": team["_id"], "doctor_id": world.id("doctor_a1")}
    assert (await world.call("res2", "POST", "/api/signing/applications", body))[0] == 403  # not their family
    status, data = await world.call("res1", "POST", "/api/signing/applications",
                                    {**body, "doctor_id": world.id("doctor_b1")})
    assert status == 400  # doctor not in that team
    status, app = await world.call("res1", "POST", "/api/signing/applications", body)
    assert status == 201 and app["status"] == "pending" and app["mode"] == "apply" and app["start"] is None
    assert app["package_name"] == "基础服务包" and app["term_years"] == 1
    status, data = await world.call("res1", "POST", "/api/signing/applications", body)
    assert status == 409 and data["error"]["code"] == "already_signed"
    status, other = await world.call("res1", "POST", "/api/signing/applications", {**body, "resident_id": child["id"]})
    assert status == 201
    # the review center: team A1 sees both pending; team B1 and other supervisors see none
    status, pending = await world.call("doctor_a1", "GET", "/api/signing/signings?status=pending")
    assert {s["id"] for s in pending["items"]} == {app["id"], other["id"]}
    assert all("*" in s["id_number"] for s in pending["items"])
    assert (await world.call("doctor_b1", "GET", "/api/signing/signings?status=pending"))[1]["items"] == []
    assert (await world.call("supervisor_other", "GET", "/api/signing/signings"))[1]["items"] == []
    assert len((await world.call("supervisor", "GET", "/api/signing/signings"))[1]["items"]) == 2
    real = (await world.hub.db.residents.find_one({"_id": me["id"]}))["id_number"]
    status, by_number = await world.call("doctor_a1", "GET", f"/api/signing/signings?id_number={real}")
    assert [s["id"] for s in by_number["items"]] == [app["id"]]
    status, by_name = await world.call("doctor_a1", "GET", "/api/signing/signings?name=子女")
    assert [s["id"] for s in by_name["items"]] == [other["id"]]
    # reviewing: only doctors and leaders of the team; a term above the limit is refused
    path = f"/api/signing/signings/{app['id']}"
    for who in ("doctor_b1", "assistant_a1", "supervisor", "res1"):
        assert (await world.call(who, "POST", path + "/approve", {}))[0] == 403, who
    assert (await world.call("doctor_a1", "POST", path + "/approve", {"term_years": 4}))[0] == 400
    status, approved = await world.call("doctor_a2", "POST", path + "/approve", {"term_years": 3})
    assert status == 200 and approved["status"] == "active" and approved["term_years"] == 3
    start, end = parse_time(approved["start"]), parse_time(approved["end"])
    assert (end - start).days in (1095, 1096)
    assert (await world.call("doctor_a1", "POST", path + "/approve", {}))[1]["error"]["code"] == "invalid_state"
    # reject the other with a reason; the reason is screened before it is stored
    await world.hub.words.add(world.users["sysadmin"], "笨蛋", "mask", "不雅")
    await world.hub.words.refresh()
    assert (await world.call("leader_a1", "POST", f"/api/signing/signings/{other['id']}/reject", {}))[0] == 400
    status, rejected = await world.call("leader_a1", "POST", f"/api/signing/signings/{other['id']}/reject",
                                        {"reason": "笨蛋，不在服务范围"})
    assert status == 200 and rejected["status"] == "rejected" and rejected["reason"] == "**，不在服务范围"
    for state, expected in (("approved", {app["id"]}), ("rejected", {other["id"]}), ("pending", set())):
        status, data = await world.call("doctor_a1", "GET", f"/api/signing/signings?status={state}")
        assert {s["id"] for s in data["items"]} == expected, state
    # the family sees each member's signing state; the key population became a tag
    status, family = await world.call("res1", "GET", "/api/signing/family")
    states = {m["id"]: (m["status"], m["signing"] and m["signing"]["status"]) for m in family["items"]}
    assert states == {me["id"]: ("signed", "active"), child["id"]: ("unsigned", None)}
    assert sorted(t["name"] for t in family["items"][0]["tags"]) == ["老年人", "高血压"]
    assert [e[0] for e in events] == ["signing.created", "signing.created", "signing.approved", "signing.rejected"]
    assert events[2][1]["resident_id"] == me["id"] and "resident_name" not in events[2][1]
    wanted = {"action": {"$regex": "^signing\\.(apply|approve|reject)"}}
    actions = [e["action"] async for e in world.hub.db.audit.find(wanted)]
    assert sorted(actions) == ["signing.apply", "signing.apply", "signing.approve", "signing.reject"]
    # once signed, the resident's own account may consult the team, not another team
    status, _ = await world.call("res1", "POST", "/api/consultations", {"doctor_id": world.id("doctor_a1")})
    assert status == 201
    status, _ = await world.call("res1", "POST", "/api/consultations", {"doctor_id": world.id("doctor_b1")})
    assert status == 403


async def test_applicant_cancels_and_renews(world: World) -> None:
    me = await family_member(world)
    body = {"resident_id": me["id"], "team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")}
    app = (await world.call("res1", "POST", "/api/signing/applications", body))[1]
    assert (await world.call("res2", "POST", f"/api/signing/signings/{app['id']}/cancel"))[0] == 403
    assert (await world.call("doctor_a1", "POST", f"/api/signing/signings/{app['id']}/cancel"))[0] == 403
    status, data = await world.call("res1", "POST", f"/api/signing/signings/{app['id']}/cancel")
    assert status == 200 and data["status"] == "cancelled"
    status, app2 = await world.call("res1", "POST", "/api/signing/applications", body)
    assert status == 201  # the key was released
    await world.call("doctor_a1", "POST", f"/api/signing/signings/{app2['id']}/approve", {})
    status, data = await world.call("res1", "POST", f"/api/signing/signings/{app2['id']}/renew")
    assert status == 409 and data["error"]["code"] == "invalid_state"  # not yet due
    await world.hub.db.signings.update_one({"_id": app2["id"]}, {"$set": {"end": now() + timedelta(days=10)}})
    await service(world.hub).run_renewals()
    assert (await world.call("res1", "GET", "/api/signing/family"))[1]["items"][0]["status"] == "to_renew"
    status, renewed = await world.call("res1", "POST", f"/api/signing/signings/{app2['id']}/renew")
    assert status == 200 and renewed["renewals"] == 1
    assert parse_time(renewed["end"]) - now() > timedelta(days=370)
    assert (await world.call("res1", "GET", "/api/signing/family"))[1]["items"][0]["status"] == "signed"


async def test_entry_and_pick_modes_and_one_signing_per_resident(world: World) -> None:
    entered = {"name": "现场录入", "id_number": id_number(), "village": VILLAGE_A, "key_populations": ["糖尿病"]}
    status, signing = await world.call("doctor_a1", "POST", "/api/signing/signings", {"resident": entered})
    assert status == 201 and signing["mode"] == "entry" and signing["status"] == "active"
    assert signing["doctor_id"] == world.id("doctor_a1") and signing["package_name"] == "基础服务包"
    assert "*" not in signing["id_number"]
    status, data = await world.call("doctor_a2", "POST", "/api/signing/signings", {"resident": entered})
    assert status == 409 and data["error"]["code"] == "already_signed"  # same team, already signed
    status, data = await world.call("doctor_a3", "POST", "/api/signing/signings", {"resident": entered})
    assert status == 403  # held by team A1 now: not visible to team A2
    status, data = await world.call("doctor_a1", "POST", "/api/signing/signings",
                                    {"resident": {**entered, "id_number": id_number()}, "term_years": 4})
    assert status == 400 and data["error"]["details"]["field"] == "term_years"
    assert await world.hub.db.residents.count_documents({}) == 1  # refused before anything was written
    assert (await world.call("assistant_a1", "POST", "/api/signing/signings", {"resident": entered}))[0] == 403
    assert (await world.call("admin_a", "POST", "/api/signing/signings", {"resident": entered}))[0] == 403
    # pick: tick residents of the roster and sign them at once
    picked = [await world.resident(name=f"户{i}", household="H9") for i in range(3)]
    far = await world.resident(name="远方", village=VILLAGE_B)
    status, data = await world.call("doctor_a1", "POST", "/api/signing/signings/batch", {
        "resident_ids": [p["id"] for p in picked] + [far["id"], signing["resident_id"], "nope"], "term_years": 2})
    assert status == 200 and len(data["signed"]) == 3 and all(s["mode"] == "pick" for s in data["signed"])
    assert {f["code"] for f in data["failed"]} == {"forbidden", "already_signed", "not_found"}
    status, progress = await world.call("doctor_a1", "GET", "/api/signing/signings/progress")
    assert progress["counts"]["active"] == 4 and progress["counts"]["pending"] == 0
    status, mine = await world.call("doctor_a1", "GET", f"/api/signing/signings?doctor_id={world.id('doctor_a1')}")
    assert len(mine["items"]) == 4
    assert await world.hub.db.signings.count_documents({"status": {"$in": ["pending", "active"]}}) == 4


async def test_two_doctors_signing_one_resident_at_once(world: World, events: list) -> None:
    """Two doctors of one team (entry and pick) sign the same resident at the same moment: one wins, the other is
    told the resident is signed. Across teams (A1 and A2 serve the same town) the loser may instead find the
    resident already held by the other team (403); never two signings."""
    for i in range(5):
        resident = await world.resident(name=f"并发{i}")
        entry, pick = await asyncio.gather(world.sign("doctor_a1", resident["id"]), world.call(
            "doctor_a2", "POST", "/api/signing/signings/batch", {"resident_ids": [resident["id"]]}))
        outcomes = sorted([entry[0], 201 if pick[1]["signed"] else 409])
        assert outcomes == [201, 409], (entry, pick)
        loser = entry[1] if entry[0] == 409 else pick[1]["failed"][0]
        assert (loser.get("error") or loser)["code"] == "already_signed"
        assert await world.hub.db.signings.count_documents({"resident_id": resident["id"]}) == 1
    for i in range(5):
        resident = await world.resident(name=f"跨队并发{i}")
        replies = await asyncio.gather(world.sign("doctor_a1", resident["id"]), world.sign("doctor_a3", resident["id"]))
        statuses = sorted(status for status, _ in replies)
        assert statuses[0] == 201 and statuses[1] in (403, 409), replies
        assert await world.hub.db.signings.count_documents({"resident_id": resident["id"]}) == 1
    assert len([e for e in events if e[0] == "signing.created"]) == 10


async def test_renewal_job_marks_renews_and_expires(world: World, events: list) -> None:
    auto = await world.resident(name="自动续约")
    manual = await world.resident(name="不自动续约")
    s_auto = (await world.sign("doctor_a1", auto["id"]))[1]
    s_manual = (await world.sign("doctor_a1", manual["id"], auto_renew=False))[1]
    soon = now() + timedelta(days=20)
    await world.hub.db.signings.update_many({}, {"$set": {"end": soon}})
    assert await service(world.hub).run_renewals() == {"renewed": 0, "expired": 0, "expiring": 2}
    assert await service(world.hub).run_renewals() == {"renewed": 0, "expired": 0, "expiring": 0}  # once per term
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents?status=to_renew")
    assert {r["name"] for r in data["items"]} == {"自动续约", "不自动续约"}
    past = now() - timedelta(hours=1)
    await world.hub.db.signings.update_many({}, {"$set": {"end": past}})
    assert await service(world.hub).run_renewals() == {"renewed": 1, "expired": 1, "expiring": 0}
    renewed = await world.hub.db.signings.find_one({"_id": s_auto["id"]})
    assert renewed["status"] == "active" and renewed["end"] > now() + timedelta(days=360)
    assert renewed["terms"][0]["end"].replace(microsecond=0) == past.replace(microsecond=0)
    assert (await world.hub.db.signings.find_one({"_id": s_manual["id"]}))["status"] == "expired"
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents?status=signed")
    assert [r["name"] for r in data["items"]] == ["自动续约"]
    status, data = await world.call("doctor_a3", "GET", "/api/signing/residents?status=unsigned")
    assert [r["name"] for r in data["items"]] == ["不自动续约"]  # released: unheld again, any team of the area
    names = [e[0] for e in events]
    assert names.count("signing.expiring") == 2 and "signing.renewed" in names and "signing.expired" in names
    # a doctor renews by hand, with a new term, once the renewal window is open
    await world.hub.db.signings.update_one({"_id": s_auto["id"]}, {"$set": {"end": now() + timedelta(days=10)}})
    status, data = await world.call("doctor_a2", "POST", f"/api/signing/signings/{s_auto['id']}/renew",
                                    {"term_years": 2})
    assert status == 200 and data["renewals"] == 2 and data["term_years"] == 2
    assert (await world.call("doctor_b1", "POST", f"/api/signing/signings/{s_auto['id']}/renew", {}))[0] == 403


async def test_terminate_refuse_and_unable_to_sign(world: World, events: list) -> None:
    one = await world.resident(name="解约者")
    two = await world.resident(name="拒签者")
    three = await world.resident(name="外迁者")
    s_one = (await world.sign("doctor_a1", one["id"]))[1]
    path = f"/api/signing/signings/{s_one['id']}/terminate"
    assert (await world.call("doctor_a1", "POST", path, {}))[0] == 400  # a reason is required
    assert (await world.call("doctor_b1", "POST", path, {"reason": "x"}))[0] == 403
    status, data = await world.call("doctor_a1", "POST", path, {"reason": "居民搬家"})
    assert status == 200 and data["status"] == "terminated" and data["reason"] == "居民搬家"
    assert (await world.call("doctor_a1", "POST", path, {"reason": "again"}))[0] == 409
    assert (await world.sign("doctor_a3", one["id"]))[0] == 201  # free to sign again, with another team
    # refusal
    status, data = await world.call("doctor_a1", "POST", f"/api/signing/residents/{two['id']}/refusal",
                                    {"reason": "暂不需要"})
    assert status == 201 and data["status"] == "refused"
    assert (await world.call("sysadmin", "GET", f"/api/signing/residents/{two['id']}"))[1]["status_label"] == "拒签"
    assert (await world.call("doctor_a1", "POST", f"/api/signing/residents/{one['id']}/refusal",
                             {"reason": "x"}))[0] == 403  # held by team A2 now
    assert (await world.sign("doctor_a1", two["id"]))[0] == 201  # a refusal does not block a later signing
    # unable to sign: a doctor requests, a supervisor of the region decides
    body = {"resident_id": three["id"], "kind": "外迁", "reason": "已迁往外省"}
    assert (await world.call("doctor_a1", "POST", "/api/signing/unable-requests", {**body, "kind": "出差"}))[0] == 400
    assert (await world.call("supervisor", "POST", "/api/signing/unable-requests", body))[0] == 403
    status, request = await world.call("doctor_a1", "POST", "/api/signing/unable-requests", body)
    assert status == 201 and request["status"] == "pending"
    assert (await world.call("doctor_a1", "POST", "/api/signing/unable-requests", body))[0] == 409
    status, listed = await world.call("supervisor", "GET", "/api/signing/unable-requests?status=pending")
    assert [r["id"] for r in listed["items"]] == [request["id"]] and "*" in listed["items"][0]["id_number"]
    assert (await world.call("supervisor_other", "GET", "/api/signing/unable-requests"))[1]["items"] == []
    assert (await world.call("res1", "GET", "/api/signing/unable-requests"))[0] == 403
    review = f"/api/signing/unable-requests/{request['id']}"
    for who in ("supervisor_other", "doctor_a1", "admin_a"):
        assert (await world.call(who, "POST", review + "/approve", {}))[0] == 403, who
    status, data = await world.call("supervisor", "POST", review + "/approve", {"note": "属实"})
    assert status == 200 and data["status"] == "approved"
    assert (await world.call("supervisor", "POST", review + "/reject", {"note": "x"}))[0] == 409
    assert (await world.call("sysadmin", "GET", f"/api/signing/residents/{three['id']}"))[1]["status"] == "unable"
    status, data = await world.sign("doctor_a1", three["id"])
    assert status == 409 and data["error"]["code"] == "unable_to_sign"
    # a rejected request changes nothing about the resident
    status, request = await world.call("doctor_a1", "POST", "/api/signing/unable-requests",
                                       {"resident_id": two["id"], "kind": "死亡", "reason": "误报"})
    assert status == 201
    review = f"/api/signing/unable-requests/{request['id']}"
    assert (await world.call("supervisor", "POST", review + "/reject", {}))[0] == 400
    status, data = await world.call("sysadmin", "POST", f"/api/signing/unable-requests/{request['id']}/reject",
                                    {"note": "核实仍在本地"})
    assert status == 200 and data["status"] == "rejected"
    assert (await world.call("sysadmin", "GET", f"/api/signing/residents/{two['id']}"))[1]["status"] == "signed"
    names = [e[0] for e in events]
    for name in ("signing.terminated", "signing.refused", "unable_to_sign.requested", "unable_to_sign.approved",
                 "unable_to_sign.rejected"):
        assert name in names, name
    # the status classes agree with the records everywhere they are counted
    counts = {}
    for status_class in ("signed", "unsigned", "to_renew", "refused", "unable"):
        data = (await world.call("sysadmin", "GET", f"/api/signing/residents?status={status_class}"))[1]
        counts[status_class] = len(data["items"])
    assert counts == {"signed": 2, "unsigned": 0, "to_renew": 0, "refused": 0, "unable": 1}


async def unable(world: World, doctor: str, supervisor: str, resident_id: str, kind: str = "外迁") -> dict:
    """An unable-to-sign requested by a doctor and approved by a supervisor."""
    status, request = await world.call(doctor, "POST", "/api/signing/unable-requests",
                                       {"resident_id": resident_id, "kind": kind, "reason": f"经核实已{kind}"})
    assert status == 201, request
    status, data = await world.call(supervisor, "POST", f"/api/signing/unable-requests/{request['id']}/approve", {})
    assert status == 200 and data["status"] == "approved", data
    return request


async def test_supervisor_lifts_unable_to_sign(world: World, events: list) -> None:
    """撤销无法签约: a supervisor of the resident's region (or a sysadmin) lifts an approved unable-to-sign with a
    reason; the status is derived again, the lift is audited and published, and the resident can be signed."""
    moved = await world.resident(name="迁回者")
    assert (await world.sign("doctor_a1", moved["id"]))[0] == 201
    request = await unable(world, "doctor_a1", "supervisor", moved["id"])
    lift = f"/api/signing/unable-requests/{request['id']}/lift"
    body = {"reason": "已迁回本村居住"}
    # other roles and other regions: 403 in the protocol's shape; nothing changes
    for who in ("doctor_a1", "leader_a1", "assistant_a1", "admin_a", "res1", "supervisor_other"):
        status, data = await world.call(who, "POST", lift, body)
        assert status == 403, (who, data)
        assert data["error"]["code"] == "forbidden" and data["error"]["message"], who
    for who in ("doctor_a1", "res1"):  # other roles learn nothing of which ids exist
        assert (await world.call(who, "POST", "/api/signing/unable-requests/nope/lift", body))[0] == 403
    status, data = await world.call("supervisor", "POST", "/api/signing/unable-requests/nope/lift", body)
    assert status == 404 and data["error"]["code"] == "not_found"
    status, data = await world.call("supervisor", "POST", lift, {})
    assert status == 400 and data["error"]["details"]["field"] == "reason"
    assert (await world.call("sysadmin", "GET", f"/api/signing/residents/{moved['id']}"))[1]["status"] == "unable"
    assert not [e for e in events if e[0] == "unable_to_sign.lifted"]
    # the supervisor of the region lifts it
    status, lifted = await world.call("supervisor", "POST", lift, body)
    assert status == 200, lifted
    assert lifted["status"] == "lifted" and lifted["lift_reason"] == "已迁回本村居住"
    assert lifted["lifted_by"] == world.id("supervisor") and lifted["lifted_at"]
    status, data = await world.call("supervisor", "POST", lift, body)
    assert status == 409 and data["error"]["code"] == "invalid_state"  # already lifted
    resident = (await world.call("sysadmin", "GET", f"/api/signing/residents/{moved['id']}"))[1]
    assert resident["status"] == "unsigned" and resident["status_label"] == "未签约" and resident["unable"] is None
    listed = (await world.call("supervisor", "GET", "/api/signing/unable-requests?status=lifted"))[1]["items"]
    assert [r["id"] for r in listed] == [request["id"]]
    entry = await world.hub.db.audit.find_one({"action": "signing.unable_lift"})
    assert entry["target"] == request["id"] and entry["actor"] == world.id("supervisor")
    assert entry["details"] == {"resident_id": moved["id"], "kind": "外迁", "status": "unsigned"}
    published = [p for name, p in events if name == "unable_to_sign.lifted"]
    assert published == [{"request_id": request["id"], "resident_id": moved["id"], "region": VILLAGE_A,
                          "team_id": world.teams["A1"]["_id"], "kind": "外迁", "status": "lifted",
                          "resident_status": "unsigned"}]
    # signed again, and later a new unable-to-sign may be filed for them
    status, signing = await world.sign("doctor_a1", moved["id"])
    assert status == 201 and signing["status"] == "active"
    assert (await world.call("sysadmin", "GET", f"/api/signing/residents/{moved['id']}"))[1]["status"] == "signed"
    # the status the rules give: a resident whose last record is a refusal goes back to 拒签; a sysadmin may lift
    refused = await world.resident(name="拒签后死亡误报")
    assert (await world.call("doctor_a1", "POST", f"/api/signing/residents/{refused['id']}/refusal",
                             {"reason": "暂不需要"}))[0] == 201
    request = await unable(world, "doctor_a1", "supervisor", refused["id"], kind="死亡")
    status, data = await world.call("sysadmin", "POST", f"/api/signing/unable-requests/{request['id']}/lift",
                                    {"reason": "误报，居民健在"})
    assert status == 200 and data["status"] == "lifted"
    assert (await world.call("sysadmin", "GET", f"/api/signing/residents/{refused['id']}"))[1]["status"] == "refused"
    # only an approved unable-to-sign can be lifted: pending and rejected ones are 409
    waiting = await world.resident(name="待审核者")
    status, pending = await world.call("doctor_a1", "POST", "/api/signing/unable-requests",
                                       {"resident_id": waiting["id"], "kind": "服刑", "reason": "待核实"})
    assert status == 201
    path = f"/api/signing/unable-requests/{pending['id']}"
    assert (await world.call("supervisor", "POST", path + "/lift", body))[1]["error"]["code"] == "invalid_state"
    await world.call("supervisor", "POST", path + "/reject", {"note": "不属实"})
    assert (await world.call("supervisor", "POST", path + "/lift", body))[0] == 409
    # the neighbouring county's supervisor lifts in their own county, not in this one
    far = await world.resident(name="邻县居民", village=VILLAGE_C)
    request = await unable(world, "doctor_c", "supervisor_other", far["id"], kind="服刑")
    path = f"/api/signing/unable-requests/{request['id']}/lift"
    assert (await world.call("supervisor", "POST", path, {"reason": "刑满释放"}))[0] == 403
    assert (await world.call("supervisor_other", "POST", path, {"reason": "刑满释放"}))[0] == 200
    assert len([e for e in events if e[0] == "unable_to_sign.lifted"]) == 3
