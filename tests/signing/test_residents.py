"""Residents: details checked, scopes per role, masking, filters and keyword search, the family of an account."""

from __future__ import annotations

from datetime import date, datetime

from hub.ids import CST
from hub.roster.residents import age_on, new_resident
from tests.signing.world import VILLAGE_A, VILLAGE_A2, VILLAGE_B, VILLAGE_C, World, fetch_raw, id_number, read_xlsx


async def test_resident_details_are_checked(world: World) -> None:
    base = {"name": "李四", "id_number": id_number(), "village": VILLAGE_A}
    wrong_check = base["id_number"][:17] + ("0" if base["id_number"][17] != "0" else "1")
    cases = [({**base, "id_number": wrong_check}, "id_number"), ({**base, "village": "330522100000"},
             "village"), ({**base, "village": "330522100299"}, "village"), ({**base, "phone": "12345"}, "phone"),
             ({**base, "name": ""}, "name"), ({**base, "key_populations": ["外星人"]}, "key_populations"),
             ({**base, "relation": "邻居"}, "relation")]
    for body, field in cases:
        status, data = await world.call("doctor_a1", "POST", "/api/signing/residents", body)
        assert status == 400 and data["error"]["details"]["field"] == field, (body, data)
    created = await world.resident("doctor_a1", **base)
    assert created["key_populations"] == ["老年人"]  # derived from age
    assert created["birth_date"] is None and created["age"] == age_on(date(1960, 4, 1), datetime.now(CST).date())
    assert created["status"] == "unsigned" and created["status_label"] == "未签约"
    status, data = await world.call("doctor_a1", "POST", "/api/signing/residents", base)
    assert status == 409 and data["error"]["details"]["reason"] == "duplicate_id_number"
    status, _ = await world.call("doctor_b1", "POST", "/api/signing/residents", {**base, "id_number": id_number()})
    assert status == 403  # village A is not in team B1's area
    assert (await world.call("res1", "POST", "/api/signing/residents", base))[0] == 403
    assert (await world.call("supervisor", "POST", "/api/signing/residents", base))[0] == 403
    assert await world.hub.db.residents.count_documents({}) == 1


async def test_scopes_and_masking(world: World) -> None:
    a = await world.resident(name="城东甲", village=VILLAGE_A, phone="13811112222")
    a2 = await world.resident(name="城西乙", village=VILLAGE_A2)
    await world.resident(name="和平丙", village=VILLAGE_B)
    await world.resident(name="古城丁", village=VILLAGE_C)
    assert (await world.sign("doctor_a1", a["id"]))[0] == 201   # team A1 now holds a
    assert (await world.sign("doctor_a3", a2["id"]))[0] == 201  # team A2 holds a2

    async def names(who: str, query: str = "") -> set[str]:
        status, data = await world.call(who, "GET", "/api/signing/residents" + query)
        assert status == 200, data
        return {r["name"] for r in data["items"]}

    assert await names("doctor_a1") == {"城东甲"}
    assert await names("assistant_a1") == {"城东甲"}
    assert await names("doctor_a3") == {"城西乙"}
    assert await names("admin_a") == {"城东甲", "城西乙"}
    assert await names("doctor_b1") == {"和平丙"}  # unheld in the team's area
    assert await names("supervisor") == {"城东甲", "城西乙", "和平丙"}
    assert await names("supervisor_other") == {"古城丁"}
    assert await names("sysadmin") == {"城东甲", "城西乙", "和平丙", "古城丁"}
    assert (await world.call("res1", "GET", "/api/signing/residents"))[0] == 403
    # lists mask; the detail view shows whole numbers to the holding team only
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents")
    row = data["items"][0]
    assert row["phone"] == "138****2222" and "*" * 10 in row["id_number"]
    status, detail = await world.call("doctor_a1", "GET", f"/api/signing/residents/{a['id']}")
    assert detail["phone"] == "13811112222" and "*" not in detail["id_number"]
    assert detail["signings"][0]["status"] == "active"
    status, detail = await world.call("supervisor", "GET", f"/api/signing/residents/{a['id']}")
    assert status == 200 and detail["phone"] == "138****2222"
    for who in ("doctor_a3", "doctor_b1", "supervisor_other", "res1"):
        assert (await world.call(who, "GET", f"/api/signing/residents/{a['id']}"))[0] == 403, who
    # edit: holding team yes, others no, supervisors never
    path = f"/api/signing/residents/{a['id']}"
    change = {"address": "新地址8号", "chronic_diseases": ["冠心病"]}
    status, data = await world.call("doctor_a1", "PATCH", path, change)
    assert status == 200 and data["address"] == "新地址8号"
    assert (await world.call("doctor_a1", "PATCH", path, {"id_number": id_number()}))[0] == 400
    assert (await world.call("doctor_b1", "PATCH", path, {"address": "x"}))[0] == 403
    assert (await world.call("supervisor", "PATCH", path, {"address": "x"}))[0] == 403
    # whole numbers never reach the audit trail
    real = (await world.hub.db.residents.find_one({"_id": a["id"]}))["id_number"]
    async for entry in world.hub.db.audit.find({}):
        assert real not in str(entry) and "13811112222" not in str(entry)


async def test_filters_and_keyword_search(world: World) -> None:
    one = await world.resident(name="王建国", phone="13812345678", address="城东路18号", household="H1")
    await world.resident(name="王秀英", phone="13900001111", address="城西路2号", household="H1")
    await world.resident(name="刘大海", village=VILLAGE_A2, address="画溪街5号", household="H2")
    assert (await world.sign("doctor_a1", one["id"]))[0] == 201

    async def found(query: str) -> list[str]:
        status, data = await world.call("sysadmin", "GET", "/api/signing/residents?" + query)
        assert status == 200, data
        return sorted(r["name"] for r in data["items"])

    assert await found("q=王") == ["王建国", "王秀英"]
    assert await found("q=2345") == []                    # a phone fragment finds nobody (test_privacy_lookups)
    assert await found("q=13812345678") == ["王建国"]      # the whole number does
    assert await found("q=画溪") == ["刘大海"]             # address
    real = (await world.hub.db.residents.find_one({"_id": one["id"]}))["id_number"]
    assert await found("q=" + real[-6:]) == [] and await found("q=" + real) == ["王建国"]
    assert await found("id_number=" + real) == ["王建国"]
    assert await found("phone=13900001111") == ["王秀英"]
    assert await found("name=大海") == ["刘大海"]
    assert await found("address=城西") == ["王秀英"]
    assert await found("status=signed") == ["王建国"]
    assert await found("status=unsigned") == ["刘大海", "王秀英"]
    assert await found(f"village={VILLAGE_A2}") == ["刘大海"]
    assert await found("region=330522100000&household=H1") == ["王建国", "王秀英"]
    assert await found("q=.*") == []  # regex characters are taken literally
    status, data = await world.call("sysadmin", "GET", "/api/signing/residents?status=weird")
    assert status == 400
    status, data = await world.call("sysadmin", "GET", "/api/signing/residents?limit=2")
    assert len(data["items"]) == 2 and data["next_cursor"]
    status, more = await world.call("sysadmin", "GET", f"/api/signing/residents?limit=2&cursor={data['next_cursor']}")
    assert len(more["items"]) == 1 and more["next_cursor"] is None
    status, households = await world.call("doctor_a1", "GET", f"/api/signing/households?village={VILLAGE_A}")
    assert status == 200 and [(h["household"], len(h["members"])) for h in households["items"]] == [("H1", 2)]
    response = await fetch_raw(world, "sysadmin", "/api/signing/residents/export.xlsx?q=王")
    rows = read_xlsx(response.body)
    assert rows[0][0] == "姓名" and sorted(r[0] for r in rows[1:]) == ["王建国", "王秀英"]
    assert all("*" in r[1] for r in rows[1:]) and {r[4] for r in rows[1:]} == {"138****5678", "139****1111"}


async def test_households_page_and_a_client_following_cursors_gets_every_resident_once(world: World) -> None:
    """Households in order, a page of ``limit`` residents, a household longer than a page continued on the next;
    also records with an empty, null or missing household number and non-ASCII household numbers."""
    sizes = {"H01": 1, "H02": 3, "H03": 12, "H04": 2, "东3组5号": 4, "H10": 5, "": 3}
    docs = [new_resident({"name": f"{household or '无户号'}成员{n}", "id_number": id_number(), "village": VILLAGE_A,
                          "region": VILLAGE_A, "household": household}, created_by=None)
            for household, size in sizes.items() for n in range(size)]
    docs += [new_resident({"name": f"旧记录{n}", "id_number": id_number(), "village": VILLAGE_A, "region": VILLAGE_A,
                           "household": None}, created_by=None) for n in range(2)]
    del docs[-1]["household"]  # written before households were recorded: no field at all
    held = new_resident({"name": "别队居民", "id_number": id_number(), "village": VILLAGE_A, "region": VILLAGE_A,
                         "household": "H02"}, created_by=None)
    held["team_id"] = world.teams["A2"]["_id"]  # another team's: out of doctor_a1's scope
    elsewhere = new_resident({"name": "邻村居民", "id_number": id_number(), "village": VILLAGE_A2,
                              "region": VILLAGE_A2, "household": "H01"}, created_by=None)
    await world.hub.db.residents.insert_many([*docs[::2], held, elsewhere, *docs[1::2]])  # ids not in house order
    expected = {d["_id"] for d in docs}

    async def follow(who: str, limit: int) -> list[list[dict]]:
        pages, cursor = [], None
        while True:
            after = f"&cursor={cursor}" if cursor else ""
            path = f"/api/signing/households?village={VILLAGE_A}&limit={limit}{after}"
            status, data = await world.call(who, "GET", path)
            assert status == 200, data
            pages.append(data["items"])
            cursor = data["next_cursor"]
            if cursor is None:
                return pages
            assert len(pages) < 50, "cursors do not end"

    pages = await follow("doctor_a1", 7)
    sizes_seen = [sum(len(h["members"]) for h in page) for page in pages]
    assert sizes_seen == [7, 7, 7, 7, 4], sizes_seen  # 32 residents, 7 a page
    members = [(h["household"], m) for page in pages for h in page for m in h["members"]]
    ids = [m["id"] for _, m in members]
    assert len(ids) == len(set(ids)) and set(ids) == expected  # every resident once, nobody out of scope
    households = [h for h, _ in members]
    assert households == sorted(households)  # household by household: no number comes back after another
    assert list(dict.fromkeys(households)) == ["", "H01", "H02", "H03", "H04", "H10", "东3组5号"]
    assert sum(len(h["members"]) for page in pages for h in page if h["household"] == "H03") == 12
    assert sum(1 for page in pages for h in page if h["household"] == "H03") == 2  # cut by a page, continued
    assert all("*" in m["id_number"] for _, m in members)
    everyone = await follow("sysadmin", 200)
    assert len(everyone) == 1 and sum(len(h["members"]) for h in everyone[0]) == 33  # plus the other team's
    default = (await world.call("doctor_a1", "GET", f"/api/signing/households?village={VILLAGE_A}"))[1]
    assert sum(len(h["members"]) for h in default["items"]) == 20 and default["next_cursor"]
    residents_cursor = (await world.call("sysadmin", "GET", "/api/signing/residents?limit=1"))[1]["next_cursor"]
    for query in ("limit=0", "limit=201", "cursor=bm9wZQ", f"cursor={residents_cursor}", "cursor=%%%"):
        status, data = await world.call("doctor_a1", "GET", f"/api/signing/households?village={VILLAGE_A}&{query}")
        assert status == 400 and data["error"]["code"] == "invalid_input", (query, data)
        assert data["error"]["details"]["field"] in ("limit", "cursor"), query


async def test_family_members_of_an_account(world: World) -> None:
    status, me = await world.call("res1", "POST", "/api/signing/family", {
        "name": "测试res1", "id_number": id_number(), "village": VILLAGE_A, "relation": "本人", "phone": "13900000001"})
    assert status == 201 and me["relation"] == "本人" and "*" not in me["id_number"]
    status, data = await world.call("res1", "POST", "/api/signing/family", {
        "name": "另一个我", "id_number": id_number(), "village": VILLAGE_A, "relation": "本人"})
    assert status == 409
    # a record already in the roster is linked when name and number match, nobody manages it and its area's
    # staff confirm the request (test_privacy_family_links)
    roster_record = await world.resident(name="张奶奶")
    real = (await world.hub.db.residents.find_one({"_id": roster_record["id"]}))["id_number"]
    status, link = await world.call("res1", "POST", "/api/signing/family", {
        "name": "张奶奶", "id_number": real, "village": VILLAGE_A, "relation": "祖父母"})
    assert status == 202 and link["status"] == "pending"
    status, link = await world.call("doctor_a1", "POST", f"/api/signing/family/links/{link['id']}/approve", {})
    assert status == 200 and link["status"] == "confirmed"
    grandma = {"id": link["resident_id"]}
    assert grandma["id"] == roster_record["id"]
    status, data = await world.call("res2", "POST", "/api/signing/family", {
        "name": "张奶奶", "id_number": real, "village": VILLAGE_A, "relation": "其他"})
    assert status == 409 and data["error"]["details"]["reason"] == "managed_elsewhere"
    status, family = await world.call("res1", "GET", "/api/signing/family")
    assert status == 200 and [m["name"] for m in family["items"]] == ["测试res1", "张奶奶"]
    assert all(m["signing"] is None and m["status"] == "unsigned" for m in family["items"])
    status, data = await world.call("res1", "PATCH", f"/api/signing/family/{grandma['id']}", {"phone": "13700001234"})
    assert status == 200 and data["phone"] == "13700001234"
    assert (await world.call("res2", "PATCH", f"/api/signing/family/{grandma['id']}", {"phone": "x"}))[0] == 403
    assert (await world.call("doctor_a1", "GET", "/api/signing/family"))[0] == 403
    status, data = await world.call("res1", "DELETE", f"/api/signing/family/{grandma['id']}")
    assert status == 200 and data["outcome"] == "unlinked"  # a roster record stays in the roster
    assert await world.hub.db.residents.find_one({"_id": grandma["id"]}) is not None
    status, data = await world.call("res1", "DELETE", f"/api/signing/family/{me['id']}")
    assert status == 200 and data["outcome"] == "deleted"
    assert (await world.call("res1", "GET", "/api/signing/family"))[1]["items"] == []
