"""Finding a resident by a number: only the whole number finds anyone, every such lookup is audited (the number
masked) and limited per user (issue 7: a masked phone came back in about 20 keyword searches)."""

from __future__ import annotations

from typing import Any

from tests.signing.world import World, build_world, fetch_raw, id_number, read_xlsx

STAFF = ("sysadmin", "supervisor", "admin_a", "leader_a1", "doctor_a1", "assistant_a1")
LIMIT = 4


async def names(world: World, who: str, query: str) -> list[str]:
    status, data = await world.call(who, "GET", "/api/signing/residents?" + query)
    assert status == 200, (who, query, data)
    return sorted(r["name"] for r in data["items"])


async def finds_nobody(world: World, who: str, query: str) -> bool:
    """No resident is found: an empty page, or a value that cannot be such a number at all (400 at the edge)."""
    status, data = await world.call(who, "GET", "/api/signing/residents?" + query)
    if status == 400:
        return data["error"]["code"] == "invalid_input"
    return status == 200 and data["items"] == []


async def lookups_of(world: World, who: str, action: str = "signing.resident_lookup") -> list[dict[str, Any]]:
    return await world.hub.db.audit.find({"actor": world.id(who), "action": action}).to_list()


async def test_fragments_find_nobody_and_the_whole_number_is_an_audited_lookup(make_hub) -> None:
    world = await build_world(make_hub, **{"signing.lookup_max": 50})
    held = await world.resident(name="王建国", phone="13812345678", address="城东路18号")
    number = (await world.hub.db.residents.find_one({"_id": held["id"]}))["id_number"]
    assert (await world.sign("doctor_a1", held["id"]))[0] == 201
    await world.resident(name="王秀英", phone="13900001111", address="城西路2号")
    fragments = ["2345", "1381234", "138123456", "5678", number[-6:], number[6:14], number[:17], number[1:]]
    for who in STAFF:
        for fragment in fragments:
            assert await names(world, who, f"q={fragment}") == [], (who, fragment)
        assert await names(world, who, "q=王") == ["王建国", "王秀英"]  # the keyword still searches names
        assert await names(world, who, "q=城西") == ["王秀英"]         # and addresses
    assert await lookups_of(world, "doctor_a1") == []  # a keyword is no lookup
    for fragment in ("1381234567", number[:17], number[-4:]):
        assert await finds_nobody(world, "supervisor", f"id_number={fragment}"), fragment
        assert await finds_nobody(world, "supervisor", f"phone={fragment}"), fragment
    for who in STAFF:
        assert await names(world, who, f"q={number}") == ["王建国"], who
        assert await names(world, who, "phone=13812345678") == ["王建国"], who
        assert await names(world, who, f"id_number={number.lower()}") == ["王建国"], who
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in "13812345678")
    assert await names(world, "doctor_a1", "q=" + full_width) == ["王建国"]
    entries = await lookups_of(world, "doctor_a1")
    assert len(entries) == 4
    assert all(e["details"]["found"] == 1 and e["details"]["resident_ids"] == [held["id"]] for e in entries)
    assert sorted(str(e["details"]["numbers"]) for e in entries) == sorted(str(n) for n in [
        {"id_number": number[:4] + "*" * 12 + number[-2:]}, {"phone": "138****5678"},
        {"id_number": number[:4] + "*" * 12 + number[-2:]}, {"phone": "138****5678"}])
    # the signing list's ID number filter and the export are lookups too
    status, data = await world.call("doctor_a1", "GET", f"/api/signing/signings?id_number={number}")
    assert status == 200 and [s["resident_id"] for s in data["items"]] == [held["id"]]
    assert (await world.call("doctor_a1", "GET", f"/api/signing/signings?id_number={number[:10]}"))[1]["items"] == []
    response = await fetch_raw(world, "doctor_a1", "/api/signing/residents/export.xlsx?q=138123")
    assert response.code == 200 and read_xlsx(response.body)[1:] == []
    response = await fetch_raw(world, "doctor_a1", "/api/signing/residents/export.xlsx?phone=13812345678")
    assert [r[0] for r in read_xlsx(response.body)[1:]] == ["王建国"]
    assert len(await lookups_of(world, "doctor_a1")) == 7
    # no whole number anywhere in the audit trail
    async for entry in world.hub.db.audit.find({}):
        assert number not in str(entry) and "13812345678" not in str(entry), entry


async def test_the_lookup_after_the_limit_is_refused_and_audited(make_hub) -> None:
    world = await build_world(make_hub, **{"signing.lookup_max": LIMIT})
    await world.resident(name="李四", phone="13812345678")
    for n in range(LIMIT):
        phone = "13812345678" if n % 2 else f"1390000{n:04d}"
        status, _ = await world.call("doctor_a1", "GET", f"/api/signing/residents?phone={phone}")
        assert status == 200, n
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents?phone=13812345678")
    assert status == 429 and data["error"]["code"] == "rate_limited"
    assert data["error"]["details"]["limit"] == LIMIT
    for path in (f"/api/signing/residents?id_number={id_number()}", "/api/signing/residents?q=13812345678",
                 f"/api/signing/signings?id_number={id_number()}"):
        assert (await world.call("doctor_a1", "GET", path))[0] == 429, path
    assert (await fetch_raw(world, "doctor_a1", "/api/signing/residents/export.xlsx?phone=13812345678")).code == 429
    assert len(await lookups_of(world, "doctor_a1")) == LIMIT
    refused = await lookups_of(world, "doctor_a1", "signing.resident_lookup_refused")
    assert len(refused) == 5 and refused[0]["details"]["numbers"] == {"phone": "138****5678"}
    # what is no lookup still works, and the limit is the user's own
    assert await names(world, "doctor_a1", "q=李") == ["李四"]
    assert await names(world, "assistant_a1", "phone=13812345678") == ["李四"]
