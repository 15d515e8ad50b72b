"""Masking hides information, not characters: from everything the lists, the households, the export and the
detail views of roles that see numbers masked show about a resident, a reader can rebuild the ID number only as
one of thousands of candidates (issue 7: the old mask beside a birth date was rebuilt exactly, 25 of 25)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import tornado.httpclient

from hub.demo import DEMO_PASSWORD, seed_demo
from hub.ids import CST
from hub.roster.idcard import CHECK_CHARS, WEIGHTS, make_id_number, mask_id_number
from hub.roster.residents import age_on
from tests.signing.world import read_xlsx
from tests.support import api, login

DEMO_COUNTY = "330522"
ENOUGH = 1000  # candidates a reader must still be left with, for every resident
EARLIEST = date(1880, 1, 1)


def birth_dates(*, age: int | None, birth_date: str | None, today: date) -> list[date]:
    """The birth dates consistent with what is shown: the date itself, an age, or nothing."""
    if birth_date:
        return [date.fromisoformat(birth_date)]
    if age is None:
        return [EARLIEST + timedelta(days=n) for n in range((today - EARLIEST).days + 1)]
    first = date(today.year - age - 2, 1, 1)
    days = [first + timedelta(days=n) for n in range(3 * 366 + 2)]
    # the hub may have counted the age a day later (midnight between the test's clock and its): either day
    return [d for d in days if d <= today + timedelta(days=1)
            and age in (age_on(d, today), age_on(d, today + timedelta(days=1)))]


def shown_at(shown: str, position: int, char: str) -> bool:
    return shown[position] == "*" or shown[position] == char


def count_candidates(shown: str, *, county: str, dates: list[date], sex: str | None) -> int:
    """How many valid ID numbers fit a masked number, the resident's county (the reader is assumed to know it:
    the village says it), the birth dates left and the sex (parity of the 17th digit); the MOD 11-2 check
    character filters them when shown."""
    assert len(shown) == 18, shown
    prefixes = [p for p in (county + f"{d:%Y%m%d}" for d in dates)
                if all(shown_at(shown, i, c) for i, c in enumerate(p))]
    options = [[d for d in "0123456789" if shown_at(shown, 14 + k, d)] for k in range(3)]
    if sex:
        options[2] = [d for d in options[2] if int(d) % 2 == (sex == "male")]
    sums: Counter[int] = Counter({0: 1})  # weighted sum of the hidden sequence digits mod 11 → ways
    for k, digits in enumerate(options):
        step: Counter[int] = Counter()
        for rest, ways in sums.items():
            for d in digits:
                step[(rest + int(d) * WEIGHTS[14 + k]) % 11] += ways
        sums = step
    checks = set(CHECK_CHARS) if shown[17] == "*" else {shown[17]}
    total = 0
    for prefix in prefixes:
        base = sum(int(c) * w for c, w in zip(prefix, WEIGHTS[:14], strict=True))
        total += sum(ways for rest, ways in sums.items() if CHECK_CHARS[(base + rest) % 11] in checks)
    return total


def merge(known: dict[str, dict[str, Any]], resident_id: str, **fields: Any) -> None:
    """What a reader learns of one resident from one row, added to what other rows told them."""
    entry = known.setdefault(resident_id, {})
    for name, value in fields.items():
        if value is None:
            continue
        if name == "id_number" and entry.get(name):  # two masks of one number: each shown character counts
            value = "".join(a if a != "*" else b for a, b in zip(entry[name], value, strict=True))
        entry[name] = value


async def pages(url: str, token: str, path: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        status, data = await api(url, "GET", path + sep + "limit=200" + (f"&cursor={cursor}" if cursor else ""), token)
        assert status == 200, (path, data)
        items += data["items"]
        cursor = data["next_cursor"]
        if cursor is None:
            return items


async def test_no_list_export_or_masked_detail_determines_an_id_number(make_hub) -> None:
    running = await make_hub(plugins={"signing": True, "example_greeter": False}, plugin_modules=[],
                             **{"signing.demo_residents": 300})
    assert await seed_demo(running.hub) is True
    url, db = running.url, running.hub.db
    today = datetime.now(CST).date()
    real = {d["_id"]: d async for d in db.residents.find({})}
    assert len(real) == 300
    sysadmin = await login(url, "sysadmin", DEMO_PASSWORD)
    supervisor = await login(url, "supervisor", DEMO_PASSWORD)
    zhang = await login(url, "resident.zhang", DEMO_PASSWORD)
    known: dict[str, dict[str, Any]] = {}

    def from_resident(row: dict[str, Any]) -> None:
        merge(known, row["id"], id_number=row["id_number"], age=row["age"], birth_date=row["birth_date"],
              sex=row["sex"], region=row["village"])

    for token in (sysadmin, supervisor):
        for row in await pages(url, token, "/api/signing/residents"):
            from_resident(row)
        for village in sorted({d["village"] for d in real.values()}):
            for household in await pages(url, token, f"/api/signing/households?village={village}"):
                for member in household["members"]:
                    from_resident(member)
        for row in await pages(url, token, "/api/signing/signings"):
            merge(known, row["resident_id"], id_number=row["id_number"])
        for row in await pages(url, token, "/api/signing/unable-requests"):
            merge(known, row["resident_id"], id_number=row["id_number"], region=row["region"])
    for row in await pages(url, zhang, "/api/signing/family"):  # the family list too shows masked numbers
        from_resident(row)
    assert set(known) == set(real)  # every demo resident was listed somewhere
    for resident_id, seen in known.items():
        doc = real[resident_id]
        assert seen["id_number"] == mask_id_number(doc["id_number"]) and "birth_date" not in seen, seen
        dates = birth_dates(age=seen.get("age"), birth_date=seen.get("birth_date"), today=today)
        assert date.fromisoformat(doc["birth_date"]) in dates  # the reader's reasoning is sound
        left = count_candidates(seen["id_number"], county=seen["region"][:6], dates=dates, sex=seen.get("sex"))
        assert left >= ENOUGH, (doc["name"], seen, left)
    # the export: each row on its own
    response = await fetch_raw_token(url, sysadmin, "/api/signing/residents/export.xlsx")
    rows = read_xlsx(response.body)
    header = rows[0]
    assert "出生日期" not in header and "年龄" in header
    column = {name: header.index(name) for name in ("身份证号", "性别", "年龄", "村（社区）")}
    assert len(rows) == 301
    by_mask = Counter(mask_id_number(d["id_number"]) for d in real.values())
    for row in rows[1:]:
        shown = row[column["身份证号"]]
        assert by_mask[shown] >= 1
        dates = birth_dates(age=int(row[column["年龄"]]), birth_date=None, today=today)
        sex = {"男": "male", "女": "female"}[row[column["性别"]]]
        left = count_candidates(shown, county=row[column["村（社区）"]][:6], dates=dates, sex=sex)
        assert left >= ENOUGH, (row, left)
    # a detail view for a role that sees numbers masked tells no more than a list; the holding team's is whole
    some = sorted(real)[:20]
    for resident_id in some:
        status, detail = await api(url, "GET", f"/api/signing/residents/{resident_id}", supervisor)
        assert status == 200 and detail["birth_date"] is None and detail["id_number"] != real[resident_id]["id_number"]
        dates = birth_dates(age=detail["age"], birth_date=None, today=today)
        assert count_candidates(detail["id_number"], county=DEMO_COUNTY, dates=dates, sex=detail["sex"]) >= ENOUGH
    wang = await login(url, "doctor.wang", DEMO_PASSWORD)
    wang_id = (await api(url, "GET", "/api/me", wang))[1]["id"]
    held = next(d for d in real.values() if d.get("doctor_id") == wang_id)
    status, detail = await api(url, "GET", f"/api/signing/residents/{held['_id']}", wang)
    assert status == 200 and detail["id_number"] == held["id_number"] and detail["birth_date"] == held["birth_date"]


def test_the_count_is_that_of_the_old_mask_when_given_its_fields() -> None:
    """The enumeration itself, on the tester's finding: the old mask (first 4, last 4) beside a birth date left
    one candidate; the new one beside an age leaves thousands."""
    today = date(2026, 12, 3)
    number = make_id_number("330522", date(1956, 5, 12), 11)
    old_mask = number[:4] + "*" * 10 + number[-4:]
    one_day = birth_dates(age=None, birth_date="1956-05-12", today=today)
    assert count_candidates(old_mask, county="330522", dates=one_day, sex="male") == 1
    a_year = birth_dates(age=age_on(date(1956, 5, 12), today), birth_date=None, today=today)
    assert 360 <= len(a_year) <= 367
    assert 20 <= count_candidates(old_mask, county="330522", dates=a_year, sex="male") <= 50
    assert count_candidates(mask_id_number(number), county="330522", dates=a_year, sex="male") >= 3000


async def fetch_raw_token(url: str, token: str, path: str) -> Any:
    request = tornado.httpclient.HTTPRequest(url + path, headers={"Authorization": f"Bearer {token}"},
                                             request_timeout=120)
    return await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)

