"""The counts the console's tabs and pager show: residents per status class, signings per review tab."""

from __future__ import annotations

from tests.signing.test_signings import family_member
from tests.signing.world import World


async def test_resident_list_with_counts(world: World) -> None:
    signed = await world.resident()
    await world.resident()
    status, _ = await world.sign("doctor_a1", signed["id"])
    assert status == 201
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents?with_counts=true")
    assert status == 200
    assert data["counts"] == {"signed": 1, "unsigned": 1, "to_renew": 0, "refused": 0, "unable": 0}
    assert data["total"] == 2 and len(data["items"]) == 2
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents?with_counts=1&status=signed")
    assert data["total"] == 1 and data["counts"]["unsigned"] == 1 and [r["id"] for r in data["items"]] == [signed["id"]]
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents")
    assert "counts" not in data
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents?with_counts=maybe")
    assert status == 400


async def test_signing_list_with_review_counts(world: World) -> None:
    me = await family_member(world)
    child = await family_member(world, relation="子女")
    body = {"team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")}
    _, first = await world.call("res1", "POST", "/api/signing/applications", {**body, "resident_id": me["id"]})
    _, second = await world.call("res1", "POST", "/api/signing/applications", {**body, "resident_id": child["id"]})
    status, _ = await world.call("doctor_a1", "POST", f"/api/signing/signings/{first['id']}/approve", {})
    assert status == 200
    status, data = await world.call("doctor_a1", "GET", "/api/signing/signings?status=pending&with_counts=true")
    assert status == 200
    assert data["counts"] == {"pending": 1, "approved": 1, "rejected": 0}
    assert [s["id"] for s in data["items"]] == [second["id"]]
    status, data = await world.call("doctor_a3", "GET", "/api/signing/signings?with_counts=true")
    assert data["counts"] == {"pending": 0, "approved": 0, "rejected": 0}
