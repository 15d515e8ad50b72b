"""An institution admin imports signing data for a doctor of one of its teams (``?team_id=&doctor_id=``); the
rows become that doctor's signings, and the admin follows the import and lists the institution's imports."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from tests.signing.test_imports import finished, xlsx
from tests.signing.world import VILLAGE_A, World, fetch_raw, id_number


async def upload_for(world: World, who: str, query: str, data: bytes) -> tuple[int, Any]:
    response = await fetch_raw(world, who, f"/api/signing/imports?filename=admin.xlsx{query}", "POST", data)
    return response.code, json.loads(response.body)


async def test_admin_imports_for_a_doctor_of_its_team(world: World) -> None:
    team, doctor = world.teams["A1"]["_id"], world.id("doctor_a1")
    data = xlsx([["管导一", id_number(date(1955, 1, 1)), None, VILLAGE_A, "G1", "城东9号", None, None, None, 1, None],
                 ["管导错", "330522195501010000", None, VILLAGE_A, None, None, None, None, None, None, None]])
    status, job = await upload_for(world, "admin_a", f"&team_id={team}&doctor_id={doctor}", data)
    assert status == 202, job
    assert job["team_id"] == team and job["doctor_id"] == doctor and job["by"] == world.id("admin_a")
    done = await finished(world, "admin_a", job["id"])
    assert (done["status"], done["imported"], done["failed"]) == ("done", 1, 1)
    status, found = await world.call("admin_a", "GET", f"/api/signing/signings?team_id={team}&mode=import")
    assert status == 200 and [(s["resident_name"], s["doctor_id"]) for s in found["items"]] == [("管导一", doctor)]
    status, listed = await world.call("admin_a", "GET", "/api/signing/imports")
    assert status == 200 and [j["id"] for j in listed["items"]] == [job["id"]]
    status, errors = await world.call("admin_a", "GET", f"/api/signing/imports/{job['id']}/errors")
    assert status == 200 and [e["row"] for e in errors["items"]] == [3]
    status, seen = await world.call("doctor_a1", "GET", f"/api/signing/imports/{job['id']}")  # the team's too
    assert status == 200 and seen["status"] == "done"


async def test_admin_import_needs_a_team_and_doctor_of_its_own(world: World) -> None:
    data = xlsx([["某人", id_number(), None, VILLAGE_A, None, None, None, None, None, None, None]])
    team_a, team_b = world.teams["A1"]["_id"], world.teams["B1"]["_id"]
    status, answer = await upload_for(world, "admin_a", "", data)
    assert status == 400 and answer["error"]["details"]["field"] == "team_id"
    status, answer = await upload_for(world, "admin_a", f"&team_id={team_a}", data)
    assert status == 400 and answer["error"]["details"]["field"] == "doctor_id"
    status, answer = await upload_for(world, "admin_a", f"&team_id={team_a}&doctor_id={world.id('assistant_a1')}", data)
    assert status == 400 and answer["error"]["details"]["field"] == "doctor_id"  # an assistant signs nobody
    status, answer = await upload_for(world, "admin_a", f"&team_id={team_a}&doctor_id={world.id('doctor_a3')}", data)
    assert status == 400 and answer["error"]["details"]["field"] == "doctor_id"  # not of that team
    status, answer = await upload_for(world, "admin_a", f"&team_id={team_b}&doctor_id={world.id('doctor_b1')}", data)
    assert status == 403  # another institution's team
    status, listed = await world.call("admin_b", "GET", "/api/signing/imports")
    assert status == 200 and listed["items"] == []
    status, _ = await upload_for(world, "supervisor", f"&team_id={team_a}&doctor_id={world.id('doctor_a1')}", data)
    assert status == 403
