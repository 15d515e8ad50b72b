"""The notices of an application: the team's doctors hear of a new one, the applicant of the decision; each notice
links to the screen it is about (``data.links.h5``; the new application also ``data.links.console``)."""

from __future__ import annotations

from typing import Any

from tests.signing.test_signings import family_member
from tests.signing.world import World
from tests.support import wait_for


async def inbox(world: World, who: str, kind: str = "signing") -> list[dict[str, Any]]:
    return await world.hub.db.inbox.find({"user": world.id(who), "kind": kind}).sort("inbox", 1).to_list()


async def test_application_reaches_team_doctors_and_decision_reaches_applicant(world: World) -> None:
    me = await family_member(world)
    child = await family_member(world, relation="子女")
    body = {"resident_id": me["id"], "team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")}
    status, app = await world.call("res1", "POST", "/api/signing/applications", body)
    assert status == 201

    async def doctors_told() -> bool:
        return all([await inbox(world, n) for n in ("doctor_a1", "doctor_a2", "leader_a1")])
    await wait_for(doctors_told, "the team's doctors get the new application")
    notice = (await inbox(world, "doctor_a2"))[0]
    assert notice["title"] == "新的签约申请" and me["name"] in notice["body"]
    assert notice["data"] == {"signing_id": app["id"], "status": "pending",
                              "links": {"h5": "/doctor/review", "console": "/signing/review?tab=pending"}}
    # an assistant reviews nothing and hears nothing; another team neither
    assert not await inbox(world, "assistant_a1") and not await inbox(world, "doctor_a3")

    status, _ = await world.call("doctor_a1", "POST", f"/api/signing/signings/{app['id']}/approve", {"term_years": 2})
    assert status == 200

    async def applicant_told() -> list[dict[str, Any]]:
        return await inbox(world, "res1")
    await wait_for(applicant_told, "the applicant gets the decision")
    notice = (await inbox(world, "res1"))[0]
    assert notice["title"] == "签约申请已通过" and notice["data"]["status"] == "active"
    assert notice["data"]["links"] == {"h5": "/signing/apply"} and notice["data"]["signing_id"] == app["id"]

    status, other = await world.call("res1", "POST", "/api/signing/applications", {**body, "resident_id": child["id"]})
    status, _ = await world.call("doctor_a1", "POST", f"/api/signing/signings/{other['id']}/reject",
                                 {"reason": "不在服务范围"})
    assert status == 200

    async def rejection_told() -> bool:
        return len(await inbox(world, "res1")) == 2
    await wait_for(rejection_told, "the applicant gets the rejection")
    notice = (await inbox(world, "res1"))[1]
    assert notice["title"] == "签约申请未通过" and "不在服务范围" in notice["body"]
    assert notice["data"]["links"] == {"h5": "/signing/apply"}


async def test_doctor_entry_sends_no_application_notice(world: World) -> None:
    resident = await world.resident()
    status, _ = await world.sign("doctor_a1", resident["id"])
    assert status == 201
    # a later application of another resident is told; the entry before it never was (the subscriber is in order)
    me = await family_member(world)
    await world.call("res1", "POST", "/api/signing/applications", {
        "resident_id": me["id"], "team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")})

    async def told() -> list[dict[str, Any]]:
        return await inbox(world, "doctor_a2")
    await wait_for(told, "the application is told")
    assert len(await inbox(world, "doctor_a2")) == 1
