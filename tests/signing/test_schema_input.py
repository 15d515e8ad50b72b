"""Schema at the edge: malformed input is a 4xx with a code, never a 500, and never reaches a query."""

from __future__ import annotations

import json
from typing import Any

from tests.signing.world import VILLAGE_A, World, id_number


async def post_raw(world: World, who: str, path: str, raw: bytes) -> tuple[int, Any]:
    return await world.call(who, "POST", path, raw=raw)


async def test_json_nested_100000_deep_is_invalid_json(world: World) -> None:
    for raw in (b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"[" * 100_000,
                b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        status, data = await post_raw(world, "sysadmin", "/api/signing/institutions", raw)
        assert status == 400 and data["error"]["code"] == "invalid_json", data
    # a few dozen levels, well-formed, is refused as too deep rather than walked
    status, data = await post_raw(world, "doctor_a1", "/api/signing/residents",
                                  b'{"name": ' + b"[" * 40 + b"]" * 40 + b"}")
    assert status == 400 and data["error"]["details"]["reason"] == "too_deep"


async def test_lone_surrogate_in_a_string_is_refused(world: World) -> None:
    body = {"name": "张\ud800三", "id_number": id_number(), "village": VILLAGE_A}
    status, data = await post_raw(world, "doctor_a1", "/api/signing/residents", json.dumps(body).encode())
    assert status == 400 and data["error"]["details"] == {"field": "name", "reason": "surrogate"}, data
    status, data = await post_raw(world, "sysadmin", "/api/signing/tags", b'{"name": "\\udfff"}')
    assert status == 400 and data["error"]["details"]["field"] == "name"
    # a surrogate in an undeclared key of a declared body: the field is unknown, still a 400
    status, data = await post_raw(world, "sysadmin", "/api/signing/tags", b'{"\\ud800": 1}')
    assert status == 400 and data["error"]["code"] == "invalid_input"


async def test_nul_and_controls_in_names_are_refused(world: World) -> None:
    for field, value in (("name", "张\x00三"), ("address", "城东\x00路"), ("address", "城东\x1b[31m"),
                         ("name", "张\t三"), ("household", "H\u00851")):
        body = {"name": "张三", "id_number": id_number(), "village": VILLAGE_A, field: value}
        status, data = await world.call("doctor_a1", "POST", "/api/signing/residents", body)
        assert status == 400 and data["error"]["details"] == {"field": field, "reason": "control_character"}, data
    assert await world.hub.db.residents.count_documents({}) == 0
    # a newline is kept in multi-line text (a team's specialty)
    status, team = await world.call("leader_a1", "PATCH", f"/api/signing/teams/{world.teams['A1']['_id']}",
                                    {"specialty": "高血压\n糖尿病"})
    assert status == 200 and team["specialty"] == "高血压\n糖尿病"
    status, data = await world.call("leader_a1", "PATCH", f"/api/signing/teams/{world.teams['A1']['_id']}",
                                    {"name": "团队\n一"})
    assert status == 400 and data["error"]["details"]["field"] == "name"


async def test_operator_objects_and_lists_are_refused_as_ids(world: World) -> None:
    resident = await world.resident("doctor_a1")
    team = world.teams["A1"]["_id"]
    for bad in ({"$ne": None}, ["x"], {"$gt": ""}, 7, "a b", "$where"):
        cases = [
            ("doctor_a1", "/api/signing/signings", {"resident_id": resident["id"], "package_id": bad}, "package_id"),
            ("doctor_a1", "/api/signing/signings", {"resident_id": bad}, "resident_id"),
            ("res1", "/api/signing/applications", {"resident_id": resident["id"], "team_id": team,
                                                    "doctor_id": bad}, "doctor_id"),
            ("res1", "/api/consultations", {"doctor_id": bad}, "doctor_id"),
            ("doctor_a1", "/api/signing/signings/batch", {"resident_ids": [bad]}, "resident_ids"),
            ("doctor_a1", "/api/signing/unable-requests", {"resident_id": bad, "kind": "外迁", "reason": "搬走"},
             "resident_id"),
            ("sysadmin", "/api/signing/teams", {"institution_id": bad, "name": "新团队"}, "institution_id"),
        ]
        for who, path, body, field in cases:
            status, data = await world.call(who, "POST", path, body)
            assert status == 400 and data["error"]["details"]["field"] == field, (path, bad, data)
    assert await world.hub.db.signings.count_documents({}) == 0
    # the same in a query string: an id parameter is an id
    status, data = await world.call("doctor_a1", "GET", "/api/signing/signings/progress?doctor_id=%24ne")
    assert status == 400 and data["error"]["details"]["field"] == "doctor_id"


async def test_wrong_types_unknown_fields_and_query_values(world: World) -> None:
    for body, field in (({"name": 5}, "name"), ({"name": {"$gt": ""}}, "name"), ({"name": "x", "admin": True}, "admin"),
                        ({"name": "x" * 21}, "name"), ({}, "name")):
        status, data = await world.call("sysadmin", "POST", "/api/signing/tags", body)
        assert status == 400 and data["error"]["details"]["field"] == field, (body, data)
    for query, field in (("limit=abc", "limit"), ("limit=0", "limit"), ("status=bogus", "status"),
                         ("cursor=%00", "cursor")):
        status, data = await world.call("doctor_a1", "GET", f"/api/signing/residents?{query}")
        assert status == 400 and data["error"]["details"]["field"] == field, (query, data)
    # a body that is not an object, and a login with the wrong types, are 400 too
    assert (await post_raw(world, "sysadmin", "/api/signing/tags", b'["name"]'))[0] == 400
    status, data = await world.call(None, "POST", "/api/auth/token", {"username": ["sysadmin"], "password": "x"})
    assert status == 400 and data["error"]["details"]["field"] == "username"


async def test_a_caller_who_may_not_act_gets_403_before_the_input_is_judged(world: World) -> None:
    status, data = await world.call("res1", "POST", "/api/signing/institutions", {"name": {"$ne": None}})
    assert status == 403, data
    assert (await world.call(None, "POST", "/api/signing/institutions", {"name": 1}))[0] == 401


async def test_a_control_character_in_the_regions_file_refuses_its_line(world: World) -> None:
    status, data = await world.call("sysadmin", "POST", "/api/signing/regions",
                                    raw="code,name\n330522102000,林\x00城镇\n".encode(),
                                    headers={"Content-Type": "text/csv"})
    assert status == 400 and data["error"]["details"]["errors"][0]["line"] == 2, data
    assert await world.hub.db.regions.find_one({"_id": "330522102000"}) is None
