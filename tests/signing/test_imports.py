"""Excel import: the template, a file full of broken rows, the error report, progress, idempotence."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import date, datetime, timedelta
from typing import Any

from openpyxl import Workbook

from plugins.signing.imports import HEADERS
from tests.signing.world import VILLAGE_A, VILLAGE_A2, World, fetch_raw, id_number, read_xlsx


def xlsx(rows: list[list[Any]], header: tuple | list = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    if header:
        sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(world: World, who: str, data: bytes) -> tuple[int, Any]:
    response = await fetch_raw(world, who, "/api/signing/imports?filename=test.xlsx", "POST", data)
    return response.code, json.loads(response.body)


async def finished(world: World, who: str, import_id: str) -> dict[str, Any]:
    for _ in range(300):
        status, job = await world.call(who, "GET", f"/api/signing/imports/{import_id}")
        assert status == 200
        if job["status"] not in ("reading", "importing"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError("import did not finish")


async def test_template_download(world: World) -> None:
    response = await fetch_raw(world, "doctor_a1", "/api/signing/imports/template.xlsx")
    assert response.code == 200 and response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = read_xlsx(response.body)
    assert rows[0] == HEADERS and len(rows) == 2


async def test_import_with_broken_rows_report_and_reimport(world: World, events: list) -> None:
    today = date.today().isoformat()
    month_ago = datetime.combine(date.today() - timedelta(days=30), datetime.min.time())
    good = [id_number(date(1950, 1, 1)), id_number(date(1985, 6, 1)), id_number(date(2022, 3, 3))]
    bad_check = good[0][:17] + ("0" if good[0][17] != "0" else "1")
    rows = [
        ["王好", good[0], "13800001111", VILLAGE_A, "H1", "城东1号", "高血压", "高血压", today, 1, ""],
        ["李好", good[1], None, VILLAGE_A2, "H2", "城西2号", None, None, None, 3, "基础服务包"],
        ["小好", good[2], None, VILLAGE_A, "H1", "城东1号", None, None, month_ago, None, None],
        ["校验错", bad_check, None, VILLAGE_A, None, None, None, None, None, None, None],
        ["日期错", "330522" + "19990231" + "0011", None, VILLAGE_A, None, None, None, None, None, None, None],
        ["重复", good[1], None, VILLAGE_A, None, None, None, None, None, None, None],
        ["未知村", id_number(), None, "330522100299", None, None, None, None, None, None, None],
        [None, id_number(), None, VILLAGE_A, None, None, None, None, None, None, None],
        ["公式", "=A1&B1", None, VILLAGE_A, None, None, None, None, None, None, None],
        ["数字号", 330522196001010011, None, VILLAGE_A, None, None, None, None, None, None, None],
        ["年限错", id_number(), None, VILLAGE_A, None, None, None, None, None, 5, None],
        ["人群错", id_number(), None, VILLAGE_A, None, None, "外星人", None, None, None, None],
        ["过期", id_number(), None, VILLAGE_A, None, None, None, None, (date.today() - timedelta(days=800)).isoformat(),
         1, None],
        ["电话错", id_number(), "123", VILLAGE_A, None, None, None, None, None, None, None],
        ["包错", id_number(), None, VILLAGE_A, None, None, None, None, None, None, "不存在的包"],
    ]
    content = xlsx(rows)
    for who in ("res1", "supervisor", "assistant_a1"):  # an admin names a team and doctor (test_imports_by_admin)
        assert (await upload(world, who, content))[0] == 403, who
    status, job = await upload(world, "doctor_a1", content)
    assert status == 202 and job["status"] in ("reading", "importing")
    job = await finished(world, "doctor_a1", job["id"])
    assert job["status"] == "done", job
    assert (job["total"], job["imported"], job["unchanged"], job["failed"]) == (15, 3, 0, 12)
    status, errors = await world.call("doctor_a1", "GET", f"/api/signing/imports/{job['id']}/errors?limit=50")
    by_row = {e["row"]: e for e in errors["items"]}
    assert sorted(by_row) == list(range(5, 17))
    assert by_row[5]["errors"][0]["message"] == "身份证号校验位不正确"
    assert by_row[7]["errors"][0]["message"].startswith("与第 3 行")
    assert "未知的村" in by_row[8]["errors"][0]["message"] and "必填" in by_row[9]["errors"][0]["message"]
    assert by_row[10]["errors"][0]["message"] == "不能使用公式"
    assert "文本格式" in by_row[11]["errors"][0]["message"]
    assert all("*" in (e["id_number"] or "*") for e in errors["items"])
    report = await fetch_raw(world, "doctor_a1", f"/api/signing/imports/{job['id']}/errors.xlsx")
    lines = read_xlsx(report.body)
    assert lines[0] == ("行号", "姓名", "身份证号", "列", "错误") and {r[0] for r in lines[1:]} == set(range(5, 17))
    assert (await world.call("doctor_b1", "GET", f"/api/signing/imports/{job['id']}"))[0] == 403
    # imported rows: active signings of the importing doctor; the key populations tagged
    signed = await world.hub.db.signings.find({"mode": "import"}).to_list()
    assert len(signed) == 3 and {s["doctor_id"] for s in signed} == {world.id("doctor_a1")}
    assert {s["term_years"] for s in signed} == {1, 3}
    status, data = await world.call("doctor_a1", "GET", "/api/signing/residents?status=signed")
    assert sorted(r["name"] for r in data["items"]) == ["小好", "李好", "王好"]
    wang = next(r for r in data["items"] if r["name"] == "王好")
    assert {t["name"] for t in wang["tags"]} == {"高血压", "老年人"}
    assert [e[0] for e in events if e[0] == "signing.imported"] == ["signing.imported"]
    # the same file again changes nothing
    before = (await world.hub.db.residents.count_documents({}), await world.hub.db.signings.count_documents({}))
    status, again = await upload(world, "doctor_a1", content)
    again = await finished(world, "doctor_a1", again["id"])
    assert (again["imported"], again["unchanged"], again["failed"]) == (0, 3, 12)
    assert (await world.hub.db.residents.count_documents({}), await world.hub.db.signings.count_documents({})) == before
    # another team importing the same people is told they are signed
    status, other = await upload(world, "doctor_a3", content)
    other = await finished(world, "doctor_a3", other["id"])
    assert (other["imported"], other["unchanged"], other["failed"]) == (0, 0, 15)
    status, listed = await world.call("doctor_a1", "GET", "/api/signing/imports")
    assert [j["id"] for j in listed["items"]] == [again["id"], job["id"]]
    audit = [e["action"] async for e in world.hub.db.audit.find({"target": job["id"]})]
    assert audit == ["signing.import_start", "signing.import"]


async def test_files_refused_at_upload(world: World) -> None:
    cases = [(b"", "missing"), (b"not a zip at all", "not_xlsx"), (xlsx([], header=[]), "empty_sheet"),
             (xlsx([]), "empty_sheet"), (xlsx([["a"]], header=["名字", "号码"]), "bad_header")]
    for data, reason in cases:
        status, body = await upload(world, "doctor_a1", data)
        assert status == 400 and body["error"]["details"]["reason"] == reason, (reason, body)
    assert await world.hub.db.signing_imports.count_documents({}) == 0


async def test_progress_is_visible_while_an_import_runs(world: World) -> None:
    rows = [[f"进度{i}", id_number(date(1970, 1, 1) + timedelta(days=i)), None, VILLAGE_A, f"H{i}", None, None, None,
             None, None, None] for i in range(2500)]
    status, job = await upload(world, "doctor_a1", xlsx(rows))
    assert status == 202
    seen = set()
    for _ in range(600):
        job = (await world.call("doctor_a1", "GET", f"/api/signing/imports/{job['id']}"))[1]
        seen.add((job["status"], job["processed"], job["total"]))
        if job["status"] == "done":
            break
        await asyncio.sleep(0.02)
    assert job["status"] == "done" and (job["imported"], job["failed"]) == (2500, 0)
    assert any(state == "importing" and 0 < done < total == 2500 for state, done, total in seen), sorted(seen)
