"""Benchmark of the signing plugin's Excel import: a 50,000-row .xlsx through the real HTTP API.

Run from the repository root (figures of the last run in ``bench/README-signing.md``)::

    .venv/bin/python -m bench.signing_import              # 50,000 rows
    .venv/bin/python -m bench.signing_import --rows 5000  # quicker

Setup, all on this machine: a fresh embedded SecantusDB on disk and a hub served in this process (both started
by ``hub.testing``, as the tests start theirs; signing plugin on, fast password hash), a county of 5 towns x 10
villages, one institution, one team and its doctor. The file (built with openpyxl, every row valid, spread over
the 50 villages) is uploaded with ``POST /api/signing/imports``; the import's progress is polled every 0.5 s until
it is done. Then the same file is imported again (it must change nothing: every row ``unchanged``). Printed: the
setup, the file, the time to the
202, the time to done, rows per second, and the counts the hub reports. Exit 1 when a count is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import sys
import time
from datetime import date, timedelta
from typing import Any

import tornado.httpclient
from openpyxl import Workbook

from handlers.base import XLSX
from hub.roster.idcard import make_id_number
from hub.testing import hub_settings, scratch_database, start_hub
from plugins.signing.imports import HEADERS

PASSWORD = "bench-password-1"
COUNTY = "330522"
TOWNS = 5
VILLAGES_PER_TOWN = 10
POLL_SECS = 0.5


def log(text: str) -> None:
    print(text, flush=True)


def villages() -> list[str]:
    return [f"{COUNTY}{100 + t:03d}{201 + v:03d}" for t in range(TOWNS) for v in range(VILLAGES_PER_TOWN)]


def build_file(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("签约数据")
    sheet.append(list(HEADERS))
    codes = villages()
    first = date(1940, 1, 1)
    today = date.today()
    for i in range(rows):
        born = first + timedelta(days=(i * 7) % 29000)
        number = make_id_number(COUNTY, born, i // 4000)  # birth date and sequence: unique for 4,000 x 29,000
        sheet.append([f"居民{i:05d}", number, f"138{i:08d}", codes[i % len(codes)], f"H{i // 3:05d}",
                      f"长兴县测试路{i}号", "高血压" if i % 5 == 0 else None, "高血压" if i % 5 == 0 else None,
                      (today - timedelta(days=i % 300)).isoformat(), 1 + i % 3, None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def request(url: str, method: str, token: str | None = None, body: bytes | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": XLSX} if token else {
        "Content-Type": "application/json"}
    response = await tornado.httpclient.AsyncHTTPClient().fetch(
        tornado.httpclient.HTTPRequest(url, method=method, body=body, headers=headers, request_timeout=300),
        raise_error=False)
    return response.code, json.loads(response.body) if response.body else None


async def run_import(base: str, token: str, data: bytes, label: str) -> tuple[dict[str, Any], float, float]:
    started = time.monotonic()
    status, job = await request(f"{base}/api/signing/imports?filename=bench.xlsx", "POST", token, data)
    accepted = time.monotonic() - started
    if status != 202:
        raise SystemExit(f"upload refused: {status} {job}")
    shown = -1
    while True:
        await asyncio.sleep(POLL_SECS)
        status, job = await request(f"{base}/api/signing/imports/{job['id']}", "GET", token)
        tenth = 10 * job["processed"] // max(job["total"], 1)
        if tenth != shown:  # progress as the hub reports it, every tenth of the file
            log(f"  {label}: {job['status']:9s} {job['processed']:6d}/{job['total']:6d} rows "
                f"at {time.monotonic() - started:6.1f} s")
            shown = tenth
        if job["status"] not in ("reading", "importing"):
            return job, accepted, time.monotonic() - started


async def main(rows: int) -> int:
    log(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    with scratch_database(in_memory=False) as database:
        running = await start_hub(hub_settings(
            database.uri, "bench_signing", plugins={"signing": True, "example_greeter": False},
            log_level="WARNING", **{"signing.renewal_job_interval_secs": 3600.0}))
        try:
            return await bench(running.hub, running.url, rows)
        finally:
            await running.stop()


async def bench(hub: Any, base: str, rows: int) -> int:
    regions = [("330000000000", "浙江省"), ("330500000000", "湖州市"), (COUNTY + "000000", "长兴县")]
    regions += [(f"{COUNTY}{100 + t:03d}000", f"镇{t}") for t in range(TOWNS)]
    regions += [(code, f"村{code[-5:]}") for code in villages()]
    await hub.roster.regions.load(regions)
    sysadmin = await hub.accounts.create_user(username="bench_admin", password=PASSWORD, role="sysadmin", name="管理员")
    institution = await hub.roster.institutions.create({"name": "基准卫生院", "kind": "卫生院",
                                                        "region": COUNTY + "000000"})
    doctor = await hub.roster.staff.create(sysadmin, {"username": "bench_doctor", "password": PASSWORD,
                                                      "role": "doctor", "name": "基准医生",
                                                      "institution_id": institution["_id"]})
    await hub.roster.teams.create(sysadmin, {"institution_id": institution["_id"], "name": "基准团队",
                                             "members": [{"user_id": doctor["_id"]}]})
    _, grant = await request(f"{base}/api/auth/token", "POST", None,
                                  json.dumps({"username": "bench_doctor", "password": PASSWORD}).encode())
    token = grant["access_token"]
    log(f"setup: embedded SecantusDB + hub in this process; {len(regions)} regions, 1 team, 1 doctor")

    started = time.monotonic()
    data = build_file(rows)
    log(f"file: {rows} rows, {len(data) / 1e6:.1f} MB, built in {time.monotonic() - started:.1f} s")

    first, accepted, elapsed = await run_import(base, token, data, "first ")
    log(f"first import: status {first['status']}, 202 after {accepted * 1000:.0f} ms, done after {elapsed:.1f} s "
        f"({rows / elapsed:,.0f} rows/s); imported {first['imported']}, unchanged {first['unchanged']}, "
        f"failed {first['failed']}")
    again, _, elapsed2 = await run_import(base, token, data, "again ")
    log(f"same file again: status {again['status']}, done after {elapsed2:.1f} s ({rows / elapsed2:,.0f} rows/s); "
        f"imported {again['imported']}, unchanged {again['unchanged']}, failed {again['failed']}")
    residents = await hub.db.residents.count_documents({})
    signings = await hub.db.signings.count_documents({"status": "active"})
    log(f"database: {residents} residents, {signings} active signings")
    ok = (first["imported"] == rows and first["failed"] == 0 and again["unchanged"] == rows
          and again["imported"] == 0 and residents == rows and signings == rows)
    log(f"target: 50,000 rows in under 120 s — {'met' if elapsed < 120 and rows >= 50000 else 'see figures'}")
    log("counts: " + ("all as expected" if ok else "WRONG"))
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50000)
    sys.exit(asyncio.run(main(parser.parse_args().rows)))
