"""The plugin as a whole: the OpenAPI document covers every endpoint, every endpoint wants a login, switching the
plugin off removes its routes, and the demo seed builds a believable county."""

from __future__ import annotations

import re
from datetime import timedelta

import tornado.httpclient

from handlers.base import XLSX
from handlers.openapi import openapi_path
from hub.demo import DEMO_PASSWORD, seed_demo
from hub.ids import now
from plugins.signing.handlers import ROUTES
from tests.signing.world import VILLAGE_B, World, id_number
from tests.support import api, login

METHODS = ("get", "post", "put", "patch", "delete")


def endpoints() -> list[tuple[str, str, str]]:
    """(method, OpenAPI path, a concrete URL) of every route of the plugin."""
    found = []
    for pattern, handler in ROUTES:
        path, _ = openapi_path(pattern)
        concrete = re.sub(r"\([^)]*\)", lambda m: "approve" if "|" in m.group(0) else "x1", pattern)
        for method in METHODS:
            if method in vars(handler) or any(method in vars(base) for base in handler.__mro__[1:-5]
                                               if base.__module__.startswith("plugins")):
                found.append((method, path, concrete))
    return found


async def test_openapi_covers_every_endpoint_and_all_want_a_login(world: World) -> None:
    status, doc = await world.call(None, "GET", "/api/openapi.json")
    assert status == 200
    listed = endpoints()
    assert len(listed) >= 45
    for method, path, concrete in listed:
        operation = doc["paths"][path][method]
        assert operation["summary"] and not operation["summary"].startswith(method.upper()), (method, path)
        assert operation["security"] == [{"bearer": []}]
        status, data = await world.call(None, method.upper(), concrete, {} if method not in ("get", "delete") else None)
        assert status == 401 and data["error"]["code"] == "unauthorized", (method, concrete, status)


async def test_openapi_names_the_spreadsheet_media_types(world: World) -> None:
    """The .xlsx uploads and downloads are described as such, and a download really is one."""
    _, doc = await world.call(None, "GET", "/api/openapi.json")
    paths = doc["paths"]
    for path in ("/api/signing/imports/template.xlsx", "/api/signing/residents/export.xlsx",
                 "/api/signing/imports/{id}/errors.xlsx"):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == [XLSX], path
    assert list(paths["/api/signing/imports"]["post"]["requestBody"]["content"]) == [XLSX]
    assert list(paths["/api/signing/imports"]["get"]["responses"]["200"]["content"]) == ["application/json"]
    assert list(paths["/api/signing/teams"]["post"]["requestBody"]["content"]) == ["application/json"]
    request = tornado.httpclient.HTTPRequest(world.running.url + "/api/signing/imports/template.xlsx",
                                             headers={"Authorization": f"Bearer {world.users['doctor_a1']['token']}"})
    response = await tornado.httpclient.AsyncHTTPClient().fetch(request)
    assert response.headers["Content-Type"] == XLSX and response.body.startswith(b"PK")


async def test_switched_off_the_plugin_leaves_no_route(make_hub) -> None:
    running = await make_hub(plugins={"signing": False, "example_greeter": False}, plugin_modules=[])
    status, doc = await api(running.url, "GET", "/api/openapi.json")
    assert not [p for p in doc["paths"] if p.startswith("/api/signing")]
    status, data = await api(running.url, "GET", "/api/signing/regions")
    assert status == 404 and data["error"]["code"] == "not_found"


async def test_demo_seed_builds_a_believable_county(make_hub) -> None:
    running = await make_hub(plugins={"signing": True, "example_greeter": False}, plugin_modules=[],
                             **{"signing.demo_residents": 2000})
    assert await seed_demo(running.hub) is True
    db = running.hub.db
    assert await db.regions.count_documents({"level": 4}) == 3 and await db.regions.count_documents({"level": 5}) == 8
    assert await db.institutions.count_documents({}) == 2 and await db.teams.count_documents({}) == 4
    assert await db.residents.count_documents({}) == 2000
    households = await db.residents.distinct("household")
    assert 400 < len(households) < 1500
    assert [h for h in households if not re.fullmatch(r"H\d{5}", h)] == []
    statuses = set(await db.residents.distinct("status"))
    assert statuses == {"signed", "unsigned", "to_renew", "refused", "unable"}
    assert set(await db.signings.distinct("status")) >= {"pending", "active", "rejected", "refused", "terminated",
                                                          "expired"}
    assert await db.signing_unable_requests.count_documents({"status": "pending"}) > 0
    # the demo doctor works in the county like any doctor: their team's residents, the review center
    token = await login(running.url, "doctor.wang", DEMO_PASSWORD)
    status, data = await api(running.url, "GET", "/api/signing/residents?status=signed&limit=5", token)
    assert status == 200 and len(data["items"]) == 5 and all("*" in r["id_number"] for r in data["items"])
    status, data = await api(running.url, "GET", "/api/signing/signings?status=pending", token)
    assert status == 200 and data["items"]
    supervisor = await login(running.url, "supervisor", DEMO_PASSWORD)
    status, data = await api(running.url, "GET", "/api/signing/unable-requests?status=pending", supervisor)
    assert status == 200 and data["items"]
    zhang = await login(running.url, "resident.zhang", DEMO_PASSWORD)
    status, data = await api(running.url, "GET", "/api/signing/family", zhang)
    assert status == 200 and data["items"][0]["status"] == "signed" and data["items"][0]["relation"] == "本人"


async def test_consultation_follows_signings_in_force_only(world: World) -> None:
    """The account's own record (本人) counts, a family member's does not; so does a signing keyed by the account
    id itself (the shape bench/hub.py writes)."""
    status, me = await world.call("res2", "POST", "/api/signing/family", {
        "name": "测试res2", "id_number": id_number(), "village": VILLAGE_B, "relation": "本人"})
    assert status == 201
    status, child = await world.call("res2", "POST", "/api/signing/family", {
        "name": "孩子", "id_number": id_number(), "village": VILLAGE_B, "relation": "子女"})
    doctor = world.id("doctor_b1")
    assert (await world.sign("doctor_b1", child["id"]))[0] == 201
    assert (await world.call("res2", "POST", "/api/consultations", {"doctor_id": doctor}))[0] == 403
    status, signing = await world.sign("doctor_b1", me["id"])
    assert status == 201
    assert (await world.call("res2", "POST", "/api/consultations", {"doctor_id": doctor}))[0] == 201
    await world.call("doctor_b1", "POST", f"/api/signing/signings/{signing['id']}/terminate", {"reason": "搬走"})
    assert not await world.hub.may_consult(world.users["res2"], world.users["doctor_b1"])
    await world.hub.db.signings.insert_one({
        "_id": "legacy", "resident_id": world.id("res1"), "team_id": world.teams["A2"]["_id"], "status": "active",
        "start": now() - timedelta(days=1), "end": now() + timedelta(days=1)})
    assert await world.hub.may_consult(world.users["res1"], world.users["doctor_a3"])
    assert not await world.hub.may_consult(world.users["res1"], world.users["doctor_a1"])
