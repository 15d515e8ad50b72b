"""Uploads and exports of the signing plugin: hostile workbooks refused at upload (400, never 500), the upload's
own body limit, and exports that never carry a formula nor fail on a stored control character."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from openpyxl import load_workbook

from tests import spreadsheet_bombs as bombs
from tests.signing.test_imports import finished, upload, xlsx
from tests.signing.world import World, fetch_raw, id_number

HOSTILE = ["=HYPERLINK(\"http://example.invalid\",\"点我\")", "+1+1", "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1"]


def cells(data: bytes) -> list[Any]:
    """Every cell of every sheet of an .xlsx (opened in full mode, where a formula shows as data_type "f")."""
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_no_formula(data: bytes) -> list[Any]:
    found = cells(data)
    assert [c.coordinate for c in found if c.data_type == "f"] == []
    return found


async def test_hostile_workbooks_are_refused_at_upload(world: World) -> None:
    cases = [(bombs.shared_strings_bomb(80), "too_large"), (bombs.empty_rows_bomb(), "too_large"),
             (bombs.ratio_bomb(), "too_large"), (bombs.entity_bomb(), "invalid_file"),
             (bombs.NOT_A_ZIP, "invalid_file")]
    for data, code in cases:
        (status, body), (health, _) = await asyncio.gather(upload(world, "doctor_a1", data),
                                                           world.call(None, "GET", "/healthz", timeout=10))
        assert status == 400 and body["error"]["code"] == code, body  # the entity bomb gave a 500 before
        assert health == 200
    assert await world.hub.db.signing_imports.count_documents({}) == 0


async def test_the_upload_limit_is_a_setting_applied_from_the_headers(make_hub: Any) -> None:
    from tests.signing.world import build_world

    world = await build_world(make_hub, **{"signing.import_max_bytes": 50_000})
    reader, writer = await asyncio.open_connection("127.0.0.1", world.running.port)
    writer.write(f"POST /api/signing/imports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50001\r\n"
                 f"Authorization: Bearer {world.token('doctor_a1')}\r\n\r\n".encode())
    await writer.drain()
    assert b" 413 " in await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    status, job = await upload(world, "doctor_a1", xlsx([["小王", id_number(), None, "330522100201"] + [None] * 7]))
    assert status == 202, job


async def test_exports_write_text_never_formulas_and_survive_control_characters(world: World) -> None:
    """Legacy values written straight into the database: formula-like text and a NUL in an address (which
    made the village's export a 500 for every staff role)."""
    made = [await world.resident(name=f"居民{n}") for n in range(len(HOSTILE) + 1)]
    for value, resident in zip(HOSTILE, made, strict=False):
        await world.hub.db.residents.update_one({"_id": resident["id"]}, {"$set": {
            "name": value, "address": value, "household": value, "chronic_diseases": [value]}})
    await world.hub.db.residents.update_one({"_id": made[-1]["id"]}, {"$set": {
        "name": "空\x00字符", "address": "测试路\x00\x01\x1f1号\ufffe", "household": "H\x0b1"}})
    for who in ("sysadmin", "admin_a", "doctor_a1", "supervisor"):
        response = await fetch_raw(world, who, "/api/signing/residents/export.xlsx")
        assert response.code == 200, (who, response.body[:300])
        found = assert_no_formula(response.body)
        texts = {c.value for c in found if isinstance(c.value, str)}
        for value in HOSTILE[:5]:  # ("\r" comes back as "\n": XML's line ends)
            assert value in texts, value
        assert "空字符" in texts and "测试路1号" in texts
        risky = [c for c in found if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t"))]
        assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky)


async def test_error_report_and_template_carry_no_formula(world: World) -> None:
    rows = [[value, id_number(), None, "330522100299"] + [None] * 7 for value in HOSTILE]
    status, job = await upload(world, "doctor_a1", xlsx(rows))
    assert status == 202, job
    job = await finished(world, "doctor_a1", job["id"])
    assert job["failed"] == len(HOSTILE), job
    report = await fetch_raw(world, "doctor_a1", f"/api/signing/imports/{job['id']}/errors.xlsx")
    assert report.code == 200
    names = {c.value for c in assert_no_formula(report.body) if c.column == 2}
    assert {"+1+1", "-2+3", "@SUM(1,2)", "=1+1", HOSTILE[0][:30]} <= names, names  # names are stripped, cut to 30
    template = await fetch_raw(world, "doctor_a1", "/api/signing/imports/template.xlsx")
    assert template.code == 200 and assert_no_formula(template.body)
