"""Rules slice, item 1: an ID number is normalised (NFKC, upper-case X) before every check and every lookup, and
the normalised number is unique — a full-width digit does not make a second person."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest

from hub import InvalidInput
from hub.roster import idcard, residents
from tests.signing.test_imports import finished, upload, xlsx
from tests.signing.world import VILLAGE_A, World

ASCII = "33052219690918629X"  # the number of the report: valid, check character X
FULL_WIDTH = "３3052219690918629X"  # the same, its first digit full-width
ALL_FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in ASCII[:17]) + "ｘ"


def test_parse_normalises_full_width_digits_and_lower_case_x() -> None:
    for raw in (ASCII, FULL_WIDTH, ALL_FULL_WIDTH, ASCII.lower(), f"  {FULL_WIDTH}\u3000"):
        parsed = idcard.parse_id_number(raw)
        assert parsed.number == ASCII and parsed.birth_date == date(1969, 9, 18), raw
    assert idcard.normalise_id_number(FULL_WIDTH) == ASCII


def test_digits_of_other_scripts_are_refused_not_read() -> None:
    arabic = "\u0663" + ASCII[1:]  # ٣: a decimal digit to Python's \d and int(), but no digit of an ID number
    with pytest.raises(InvalidInput) as caught:
        idcard.parse_id_number(arabic)
    assert caught.value.details["reason"] == "characters"


async def test_full_width_number_is_the_same_person_everywhere(world: World) -> None:
    created = await world.resident(name="全角", id_number=ASCII)
    assert (await world.hub.db.residents.find_one({"_id": created["id"]}))["id_number"] == ASCII
    # entry: the roster record of that number, not a second person
    status, data = await world.call("sysadmin", "POST", "/api/signing/residents",
                                    {"name": "全角", "id_number": FULL_WIDTH, "village": VILLAGE_A})
    assert status == 409 and data["error"]["details"]["reason"] == "duplicate_id_number", data
    status, signing = await world.call("doctor_a1", "POST", "/api/signing/signings", {
        "resident": {"name": "全角", "id_number": FULL_WIDTH, "village": VILLAGE_A}})
    assert status == 201 and signing["resident_id"] == created["id"], signing
    status, data = await world.call("doctor_a2", "POST", "/api/signing/signings", {
        "resident": {"name": "全角", "id_number": ALL_FULL_WIDTH, "village": VILLAGE_A}})
    assert status == 409 and data["error"]["code"] == "already_signed", data
    # family: adding the number in full width never writes a second record
    await world.call("res1", "POST", "/api/signing/family",
                     {"name": "全角", "id_number": ALL_FULL_WIDTH, "village": VILLAGE_A, "relation": "父母"})
    # the import: the row is the signed person (unchanged or refused), not a new one
    status, job = await upload(world, "doctor_a1", xlsx([["全角", FULL_WIDTH, None, VILLAGE_A, None, None, None,
                                                          None, None, None, None]]))
    job = await finished(world, "doctor_a1", job["id"])
    assert job["imported"] == 0, job
    assert await world.hub.db.residents.count_documents({}) == 1
    assert await world.hub.db.signings.count_documents({"status": "active"}) == 1
    # lookups by number normalise too
    for who, path in (("doctor_a1", "/api/signing/residents"), ("doctor_a1", "/api/signing/signings")):
        for number in (FULL_WIDTH, ALL_FULL_WIDTH, ASCII.lower()):
            status, found = await world.call(who, "GET", f"{path}?id_number={quote(number)}")
            assert status == 200 and len(found["items"]) == 1, (path, number, found)


async def test_numbers_stored_before_normalisation_are_rewritten_once(world: World) -> None:
    db = world.hub.db
    await db.residents.insert_many([
        residents.new_resident({"name": "旧数据", "id_number": FULL_WIDTH, "region": VILLAGE_A}, created_by=None),
        residents.new_resident({"name": "同一人", "id_number": "３3052219690918629x"}, created_by=None)])
    await db.roster_meta.delete_many({})  # the hub's start-up already marked this (then empty) database
    counts = await world.hub.roster.residents.normalise_stored_id_numbers()
    assert counts == {"normalised": 1, "duplicates": 1}
    assert await db.residents.count_documents({"id_number": ASCII}) == 1
    assert await world.hub.roster.residents.normalise_stored_id_numbers() == {"normalised": 0, "duplicates": 0}  # once
