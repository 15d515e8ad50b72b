"""Every text a person types is screened before it is stored, through the declared fields (``hub.schema``), with
the word's action: block refuses naming the field, mask stores masked, alert stores and raises an alert."""

from __future__ import annotations

import pytest

from hub.schema import NOT_TYPED, SCREEN, SCREEN_BY_SERVICE
from tests.signing.test_imports import finished, upload, xlsx
from tests.signing.world import VILLAGE_A, World, id_number

BLOCK, MASK, ALERT = "法轮功", "傻逼", "代开发票"
#: The kinds of a declared field that are not free text (``x-kind`` in the OpenAPI document).
NON_TEXT_KINDS = {"id", "enum", "phone", "code", "date", "date-time", "password", "integer", "number", "boolean",
                  "search", "sensitive-word"}


@pytest.fixture
async def words(world: World) -> None:
    sysadmin = world.users["sysadmin"]
    for word, action in ((BLOCK, "block"), (MASK, "mask"), (ALERT, "alert")):
        await world.hub.words.add(sysadmin, word, action, "测试")
    await world.hub.words.refresh()  # add() only announces the change: the engine is rebuilt off the request


async def alerts_for(world: World, field: str) -> list[dict]:
    return await world.hub.db.alerts.find({"where.field": field}).to_list()


async def test_a_blocked_word_in_an_address_is_refused_naming_it(world: World, words: None) -> None:
    body = {"name": "张三", "id_number": id_number(), "village": VILLAGE_A, "address": f"城东路{BLOCK}1号"}
    status, data = await world.call("doctor_a1", "POST", "/api/signing/residents", body)
    assert status == 422 and data["error"]["code"] == "content_blocked", data
    assert data["error"]["details"]["field"] == "address"
    assert await world.hub.db.residents.count_documents({}) == 0
    # an edit too, and an entry in a list (a chronic disease, which becomes a tag) names its list
    resident = await world.resident("doctor_a1")
    status, data = await world.call("doctor_a1", "PATCH", f"/api/signing/residents/{resident['id']}",
                                    {"chronic_diseases": ["高血压", BLOCK]})
    assert status == 422 and data["error"]["details"] == {**data["error"]["details"], "field": "chronic_diseases",
                                                          "path": "chronic_diseases[1]"}
    stored = await world.hub.db.residents.find_one({"_id": resident["id"]})
    assert stored["chronic_diseases"] == [] and stored["address"] == "测试路1号"


async def test_an_alert_word_in_a_staff_profile_is_stored_and_alerted(world: World, words: None) -> None:
    body = {"username": "doc_new", "password": "password123", "role": "doctor", "name": "新医生",
            "institution_id": world.institutions["A"]["_id"], "profile": f"擅长慢病管理，可{ALERT}"}
    status, data = await world.call("admin_a", "POST", "/api/signing/staff", body)
    assert status == 201 and ALERT in data["profile"], data
    [alert] = await alerts_for(world, "profile")
    assert alert["where"]["object"] == "staff" and alert["where"]["plugin"] == "signing"
    assert alert["user"]["id"] == world.id("admin_a") and alert["words"] == [ALERT]


async def test_a_mask_word_in_an_institution_name_is_stored_masked(world: World, words: None) -> None:
    status, data = await world.call("sysadmin", "POST", "/api/signing/institutions",
                                    {"name": f"{MASK}卫生院", "kind": "卫生院", "region": "330522101000"})
    assert status == 201 and data["name"] == "**卫生院", data
    assert (await world.hub.db.institutions.find_one({"_id": data["id"]}))["name"] == "**卫生院"


async def test_team_package_and_tag_text_is_screened(world: World, words: None) -> None:
    team = world.teams["A1"]["_id"]
    status, data = await world.call("leader_a1", "PATCH", f"/api/signing/teams/{team}", {"specialty": BLOCK})
    assert status == 422 and data["error"]["details"]["field"] == "specialty"
    status, data = await world.call("sysadmin", "POST", "/api/signing/packages", {
        "name": "特色包", "kind": "special", "items": [{"name": f"上门{MASK}", "times_per_year": 1}],
        "description": f"说明{ALERT}"})
    assert status == 201 and data["items"][0]["name"] == "上门**", data
    assert [a["where"]["object"] for a in await alerts_for(world, "description")] == ["package"]
    status, data = await world.call("sysadmin", "POST", "/api/signing/packages", {
        "name": "特色包", "kind": "special", "items": [{"name": BLOCK}]})
    assert status == 422 and data["error"]["details"] == {**data["error"]["details"], "field": "items.name",
                                                          "path": "items[0].name"}
    status, data = await world.call("sysadmin", "POST", "/api/signing/tags", {"name": BLOCK})
    assert status == 422 and data["error"]["details"]["field"] == "name"


async def test_the_alert_resolution_note_is_screened(world: World, words: None) -> None:
    resident = await world.resident("doctor_a1", address=f"城东{ALERT}")
    assert resident["address"] == f"城东{ALERT}"
    [alert] = await alerts_for(world, "address")
    path = f"/api/alerts/{alert['_id']}/resolve"
    status, data = await world.call("supervisor", "POST", path, {"note": f"已核实{BLOCK}"})
    assert status == 422 and data["error"]["details"]["field"] == "note"
    assert (await world.hub.db.alerts.find_one({"_id": alert["_id"]}))["status"] == "open"
    status, data = await world.call("supervisor", "POST", path, {"note": f"已核实，{MASK}"})
    assert status == 200 and data["note"] == "已核实，**", data


async def test_an_import_row_with_a_blocked_name_fails_in_the_report(world: World, words: None) -> None:
    rows = [[f"{BLOCK}", id_number(), None, VILLAGE_A, None, None, None, None, None, None, None],
            ["王好", id_number(), None, VILLAGE_A, None, f"城东{MASK}", None, None, None, None, None],
            ["李好", id_number(), None, VILLAGE_A, "H\x851", None, None, None, None, None, None]]
    status, job = await upload(world, "doctor_a1", xlsx(rows))
    assert status == 202
    job = await finished(world, "doctor_a1", job["id"])
    assert (job["status"], job["imported"], job["failed"]) == ("done", 1, 2), job
    status, errors = await world.call("doctor_a1", "GET", f"/api/signing/imports/{job['id']}/errors")
    by_row = {e["row"]: e["errors"] for e in errors["items"]}
    assert by_row[2][0]["column"] == "姓名" and "违禁" in by_row[2][0]["message"]
    assert by_row[4][0]["column"] == "户号"
    stored = await world.hub.db.residents.find_one({"name": "王好"})
    assert stored["address"] == "城东**"


async def test_openapi_declares_every_body_and_query_field_as_screened_or_not_text(world: World) -> None:
    """The declared list of screened fields, per document type, read back from the OpenAPI document: every
    request-body property and query parameter is either screened text or a declared non-text kind."""
    status, doc = await world.call(None, "GET", "/api/openapi.json")
    assert status == 200
    screened: dict[str, set[str]] = {}
    problems: list[str] = []

    def walk(schema: dict, where: str, document: str) -> None:
        kind = schema.get("x-kind")
        if kind == "object":
            for name, child in schema["properties"].items():
                walk(child, f"{where}.{name}", schema["x-document"])
        elif kind == "list":
            walk(schema["items"], where + "[]", document)
        elif kind == "text":
            if schema.get("x-screened") not in (SCREEN, SCREEN_BY_SERVICE):
                problems.append(f"{where}: text not screened")
            screened.setdefault(document, set()).add(where.rsplit(" ", 1)[1].lstrip("."))
        elif kind not in NON_TEXT_KINDS or schema.get("x-screened", NOT_TYPED):
            problems.append(f"{where}: undeclared kind {kind!r}")

    bodies = 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for param in operation["parameters"]:
                if param["in"] == "query":
                    walk(param["schema"], f"{method} {path} ?{param['name']}", "query")
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                bodies += 1
                walk(content["application/json"]["schema"], f"{method} {path} ", "")
    assert not problems, problems
    assert bodies >= 25
    # the fields the issue names, each declared screened under its document type
    expected = {"resident": {"name", "address", "household", "chronic_diseases[]"},
                "staff": {"name", "title", "profile"}, "team": {"specialty", "name"},
                "institution": {"name", "address"}, "package": {"name", "description"},
                "package_item": {"items[].name"},
                "alert": {"note"}, "tag": {"name"}}
    for document, fields in expected.items():
        assert fields <= screened.get(document, set()), (document, screened.get(document))
