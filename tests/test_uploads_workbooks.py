"""Hostile workbooks: every limit of ``hub.spreadsheets`` refuses its bomb with a 400 naming it, the parse runs in
a memory-limited worker (the hub's own memory stays put) and the event loop keeps answering meanwhile."""

from __future__ import annotations

import asyncio
import io
import threading
import zipfile
from dataclasses import replace
from typing import Any

import pytest

from hub.spreadsheets import (
    InvalidFile,
    Sheet,
    WorkbookLimits,
    WorkbookTooLarge,
    parse_workbook,
    read_workbook,
    workbook_bytes,
)
from tests import spreadsheet_bombs as bombs
from tests.spreadsheet_bombs import MAIN, SHEET_HEAD, SHEET_TAIL
from tests.support import RunningHub, api, wait_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIMITS = WorkbookLimits(max_columns=3)


def rss_bytes() -> int:
    """This process's resident memory (the tests serve the hub in process)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def refused(data: bytes, limits: WorkbookLimits = LIMITS) -> dict[str, Any]:
    with pytest.raises((InvalidFile, WorkbookTooLarge)) as caught:
        parse_workbook(data, limits)
    return {"code": caught.value.code, **caught.value.details}


def strings(count: int, text: str = "词") -> bytes:
    items = "".join(f"<si><t>{text}{i}</t></si>" for i in range(count))
    return bombs.workbook(strings=lambda: iter([f'<sst xmlns="{MAIN}">{items}</sst>']))


def test_each_limit_refuses_its_bomb() -> None:
    assert refused(bombs.shared_strings_bomb(80)) == {"code": "too_large", "limit": "max_part_bytes",
                                                      "max": LIMITS.max_part_bytes}
    assert refused(bombs.empty_rows_bomb())["limit"] == "max_ratio"
    assert refused(bombs.ratio_bomb())["limit"] == "max_ratio"
    assert refused(bombs.entity_bomb()) == {"code": "invalid_file", "reason": "xml_dtd"}
    assert refused(bombs.NOT_A_ZIP) == {"code": "invalid_file", "reason": "not_xlsx"}
    assert refused(b"plain text, not even PK") == {"code": "invalid_file", "reason": "not_xlsx"}
    # the limits past the zip's directory, each met by a file built just over it
    assert refused(strings(30), replace(LIMITS, max_shared_strings=20))["limit"] == "max_shared_strings"
    assert refused(strings(10, "长" * 50), replace(LIMITS, max_shared_chars=400))["limit"] == "max_shared_chars"
    assert refused(bombs.many_cells(5000), replace(LIMITS, max_cells=1000))["limit"] == "max_cells"
    far = SHEET_HEAD + '<row r="2000000"><c r="A2000000" t="s"><v>0</v></c></row>' + SHEET_TAIL
    assert refused(bombs.workbook(sheet=lambda: iter([far])))["limit"] == "max_sheet_rows"
    rows = SHEET_HEAD + "".join(f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>' for n in range(1, 12))
    assert refused(bombs.workbook(sheet=lambda: iter([rows + SHEET_TAIL])), replace(LIMITS, max_rows=10))[
        "limit"] == "max_rows"
    crowded = io.BytesIO()
    with zipfile.ZipFile(crowded, "w") as archive:
        for n in range(300):
            archive.writestr(f"x{n}.xml", "<x/>")
    assert refused(crowded.getvalue())["limit"] == "max_entries"
    # within the limits, a hand-built workbook reads as usual
    assert parse_workbook(bombs.workbook(), LIMITS) == [(1, ("词", None, None))]


async def test_the_worker_is_memory_limited_and_the_hub_is_not_touched() -> None:
    """3 million cells in one row (12 MB of XML: within the part limits once the ratio check is relaxed) need
    gigabytes in openpyxl; the worker hits its rlimit and answers too_large, the hub's memory stays put, and
    the event loop goes on ticking while the worker works."""
    data = bombs.many_cells(3_000_000)
    limits = replace(LIMITS, max_ratio=100_000, max_cells=10_000_000)
    before = rss_bytes()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        with pytest.raises(WorkbookTooLarge) as caught:
            await read_workbook(data, limits)
    finally:
        ticker.cancel()
    assert caught.value.details == {"limit": "worker_memory_bytes", "max": limits.worker_memory_bytes}
    assert rss_bytes() - before < 100 * 1024 * 1024
    assert ticks >= 2  # the loop ran while the worker parsed (not a timing bound: just that it ran at all)


async def test_a_worker_past_its_time_is_killed() -> None:
    limits = replace(LIMITS, worker_timeout_secs=0.01)  # less than it takes a Python to start
    with pytest.raises(WorkbookTooLarge) as caught:
        await read_workbook(bombs.workbook(), limits)
    assert caught.value.details == {"limit": "worker_timeout_secs", "max": 0.01}


async def test_worker_reads_a_workbook_we_wrote() -> None:
    """What the writer cannot carry is dropped (a lone surrogate, U+FFFE, C0 controls); formulas stay text."""
    data = workbook_bytes([Sheet("s", [["word", "category"], ["毒品\ud800\ufffe\x00", "违法"], [None, None],
                                       ["=1+1", 5]])])
    assert await read_workbook(data, LIMITS) == [(1, ("word", "category", None)), (2, ("毒品", "违法", None)),
                                                  (4, ("=1+1", 5, None))]
    assert await read_workbook(data, LIMITS, first=2) == [(1, ("word", "category", None)), (2, ("毒品", "违法", None))]


async def test_sensitive_word_import_refuses_bombs_and_the_hub_keeps_answering(hub: RunningHub) -> None:
    token = hub.users["supervisor"]["token"]
    cases = [(bombs.shared_strings_bomb(80), "too_large", "max_part_bytes"),
             (bombs.empty_rows_bomb(), "too_large", "max_ratio"), (bombs.ratio_bomb(), "too_large", "max_ratio"),
             (bombs.entity_bomb(), "invalid_file", "xml_dtd"), (bombs.NOT_A_ZIP, "invalid_file", "not_xlsx")]
    before = rss_bytes()
    for data, code, what in cases:
        upload = api(hub.url, "POST", "/api/sensitive-words/import", token, raw=data, headers={"Content-Type": XLSX})
        (status, body), (health, _) = await asyncio.gather(upload, api(hub.url, "GET", "/healthz", timeout=10))
        assert status == 400 and body["error"]["code"] == code, body
        assert what in (body["error"]["details"].get("limit"), body["error"]["details"].get("reason")), body
        assert health == 200
    # the old hub grew by 0.5 GB on the empty rows alone and never gave it back
    assert rss_bytes() - before < 150 * 1024 * 1024
    status, data = await api(hub.url, "GET", "/api/sensitive-words", token)
    assert status == 200 and data["items"] == []


async def test_a_large_word_import_is_checked_off_the_event_loop(hub: RunningHub) -> None:
    """150,000 rows take seconds to check (the old hub did it on the loop, and answered nothing meanwhile): a
    health check sent while the import is being checked is answered before the import is."""
    token = hub.users["supervisor"]["token"]
    body = "".join(f"检查词{i}\n" for i in range(150_000)) + "长" * 200 + "\n"  # the last row is bad: nothing stored
    done: list[str] = []

    async def run_import() -> Any:
        answer = await api(hub.url, "POST", "/api/sensitive-words/import", token, raw=body.encode(),
                           headers={"Content-Type": "text/plain"})
        done.append("import")
        return answer

    checking = threading.Event()  # set by the real check when it starts (it runs in a worker thread)
    parse_text = hub.hub.words.parse_text

    def seen_parse_text(*args: Any, **kwargs: Any) -> Any:
        checking.set()
        return parse_text(*args, **kwargs)

    hub.hub.words.parse_text = seen_parse_text  # type: ignore[method-assign]

    async def ping() -> Any:
        await wait_for(checking.is_set, "the import being checked", timeout=60)  # checking takes seconds
        answer = await api(hub.url, "GET", "/healthz", timeout=60)
        done.append("healthz")
        return answer

    (status, data), (health, _) = await asyncio.gather(run_import(), ping())
    assert status == 400 and data["error"]["details"]["error_count"] == 1, data
    assert health == 200 and done == ["healthz", "import"]


def renamed_shared_strings(count: int, part: str = "xl/strs.xml") -> bytes:
    """A workbook whose shared strings live in a part of another name, as ``[Content_Types].xml`` may declare."""
    source = zipfile.ZipFile(io.BytesIO(strings(1)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.lower().endswith("sharedstrings.xml"):
                continue
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"/xl/sharedStrings.xml", ("/" + part).encode())
            if info.filename.endswith(".rels"):
                data = data.replace(b"sharedStrings.xml", part.split("/", 1)[1].encode())
            archive.writestr(info.filename, data)
        archive.writestr(part, '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                         + "<si><t>词</t></si>" * count + "</sst>")
    return out.getvalue()


def test_shared_strings_under_another_name_are_counted_too() -> None:
    """openpyxl loads whatever part the content types declare as shared strings: the limits hold it by that name."""
    assert parse_workbook(renamed_shared_strings(5), LIMITS)[0][1][0] == "词"  # the renamed part is really read
    assert refused(renamed_shared_strings(30), replace(LIMITS, max_shared_strings=20))["limit"] == "max_shared_strings"
