"""Excel (.xlsx) import of signing data (数据导入模式): a downloadable template; every row checked; a per-row error
report to download; valid rows imported as active signings of the importing doctor's team and doctor; progress
stored while it runs; importing the same file again changes nothing (a row whose resident is already signed with
this team from the same date is counted ``unchanged``).

The request checks the file and its header and answers at once (202); reading and importing run in a background
task (reading in a bounded worker process: ``hub.spreadsheets``) in batches of ``BATCH_ROWS`` with one bulk write per
collection per batch. Residents already in the roster keep their details; only their signing is added.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from hub import (
    Body,
    ContentBlocked,
    Forbidden,
    HubError,
    InvalidInput,
    RequestContext,
    Sheet,
    WorkbookLimits,
    WorkbookTooLarge,
    find_in,
    get_by_id,
    read_workbook,
    screen_fields,
    workbook_bytes,
)
from hub.accounts import PHONE_RE
from hub.ids import CST, iso, new_id, now
from hub.pages import page
from hub.roster import idcard, residents
from hub.roster.packages import check_term
from hub.roster.scopes import TEAM_ROLES
from hub.store import insert_unordered
from hub.tasks import cancel_and_wait
from plugins.signing import locks, signings
from plugins.signing.schemas import RESIDENT_TEXT

log = logging.getLogger(__name__)

COLUMNS = (("name", "姓名"), ("id_number", "身份证号"), ("phone", "手机号"), ("village", "村（社区）区划代码"),
           ("household", "户号"), ("address", "住址"), ("key_populations", "重点人群"), ("chronic_diseases", "慢性病"),
           ("start", "签约日期"), ("term_years", "签约年限"), ("package", "服务包"))
HEADERS = tuple(title for _, title in COLUMNS)
TITLES = dict(COLUMNS)
BATCH_ROWS = 1000
STALLED_SECS = 120
SPLIT_RE = re.compile(r"[、,，;；\s]+")
DERIVED = {"老年人", "0-6岁儿童"}  # key populations the birth date implies (residents.derived_populations)

# Background imports of each hub (a hub is a key, not a global: several hubs may share a test process). The core
# has no per-plugin state slot on the Hub; see the report.


# -- the template and the report -----------------------------------------------------------------------------

def template_bytes() -> bytes:
    example = ["张三", idcard.make_id_number("330522", date(1950, 3, 1), 11), "13800000000", "330522100201", "1",
               "雉城街道示例村1号", "老年人、高血压", "高血压", date.today().isoformat(), 1, "基础服务包"]
    notes = ("第一行为表头，请勿修改；从第二行起每行一位居民。",
             "必填：姓名、身份证号（18 位，文本格式）、村（社区）区划代码（12 位）。",
             "重点人群用顿号分隔，可选：" + "、".join(residents.KEY_POPULATIONS),
             "签约日期默认为导入当天，格式 YYYY-MM-DD；签约年限 1 到 3 年，默认为服务包的年限。",
             "服务包填名称，默认为基础服务包。单元格中不能使用公式。示例行请删除。")
    return workbook_bytes([Sheet("签约数据", [list(HEADERS), example], widths=dict.fromkeys("ABCDEFGHIJK", 18)),
                           Sheet("填写说明", [[line] for line in notes])])


def report_bytes(errors: list[dict[str, Any]]) -> bytes:
    rows: list[list[Any]] = [["行号", "姓名", "身份证号", "列", "错误"]]
    rows += [[entry["row"], entry.get("name") or "", entry.get("id_number") or "", problem["column"],
              problem["message"]] for entry in errors for problem in entry["errors"]]
    return workbook_bytes([Sheet("错误报告", rows)])


def residents_bytes(rows: list[dict[str, Any]]) -> bytes:
    """An export of rendered (already masked) residents: an age, not the birth date (``render_resident``)."""
    header = ["姓名", "身份证号", "性别", "年龄", "手机号", "村（社区）", "户号", "住址", "重点人群", "慢性病",
              "标签", "签约状态", "签约到期"]
    body = ([r["name"], r["id_number"], {"male": "男", "female": "女"}.get(r["sex"] or "", ""), r["age"],
             r["phone"], r["village"], r["household"], r["address"], "、".join(r["key_populations"]),
             "、".join(r["chronic_diseases"]), "、".join(t["name"] for t in r["tags"]), r["status_label"],
             r["signing_end"]] for r in rows)
    return workbook_bytes([Sheet("居民", [header, *body])])


# -- reading ---------------------------------------------------------------------------------------------------

def _limits(max_rows: int) -> WorkbookLimits:
    return WorkbookLimits(max_rows=max_rows, max_columns=len(HEADERS))


def check_header(rows: list[tuple[int, tuple]]) -> None:
    """Raise ``InvalidInput`` unless the first sheet starts with the template's header and has a data row."""
    if not rows:
        raise InvalidInput("工作表为空", field="file", reason="empty_sheet")
    number, header = rows[0]
    got = tuple(str(v).strip() if v is not None else "" for v in header)
    if number != 1 or got != HEADERS:
        raise InvalidInput("表头与模板不一致，请下载模板填写", field="file", reason="bad_header",
                           expected=list(HEADERS))
    if len(rows) < 2:
        raise InvalidInput("工作表没有数据行", field="file", reason="empty_sheet")


async def read_header(data: bytes) -> None:
    """Check the file against the workbook limits and its header; the worker stops after the first data row."""
    check_header(await read_workbook(data, _limits(2), first=2))


async def read_rows(data: bytes, max_rows: int) -> list[tuple[int, tuple]]:
    """(row number, values) of every non-blank data row of the first sheet."""
    try:
        rows = await read_workbook(data, _limits(max_rows + 1))
    except WorkbookTooLarge as exc:
        if exc.details.get("limit") == "max_rows":
            raise InvalidInput(f"一次最多导入 {max_rows} 行", field="file", reason="too_many_rows") from None
        raise
    return [(number, values) for number, values in rows if number >= 2]


# -- checking a row ------------------------------------------------------------------------------------------

class RowChecker:
    """Checks rows against the roster (villages, packages) and the rows before them in the same file."""

    def __init__(self, villages: set[str], package_by_name: dict[str, dict[str, Any]], max_term: int,
                 today: date) -> None:
        self.villages = villages
        self.packages = package_by_name
        self.max_term = max_term
        self.today = today
        self.seen: dict[str, int] = {}

    def check(self, number: int, values: tuple) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
        errors: list[dict[str, str]] = []
        cells = dict(zip((key for key, _ in COLUMNS), values, strict=True))

        def fail(key: str, message: str) -> None:
            errors.append({"column": TITLES[key], "message": message})

        for key, value in cells.items():
            if isinstance(value, str) and value.startswith("="):
                fail(key, "不能使用公式")
                cells[key] = None
        row: dict[str, Any] = {"row": number}
        name = _text(cells["name"])
        if not name:
            fail("name", "姓名必填")
        elif len(name) > 30:
            fail("name", "姓名最多 30 字")
        row["name"] = name
        raw_id = cells["id_number"]
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            fail("id_number", "身份证号须为文本格式（数字格式会丢失精度）")
        else:
            try:
                parsed = idcard.parse_id_number(_text(raw_id), today=self.today)
                row.update(id_number=parsed.number, birth_date=parsed.birth_date, sex=parsed.sex)
                if parsed.number in self.seen:
                    fail("id_number", f"与第 {self.seen[parsed.number]} 行身份证号重复")
                else:
                    self.seen[parsed.number] = number
            except InvalidInput as exc:
                fail("id_number", exc.message)
        phone = _text(cells["phone"])
        if phone and not PHONE_RE.match(phone):
            fail("phone", "手机号格式不正确")
        row["phone"] = phone or None
        village = _text(cells["village"])
        if not village:
            fail("village", "村（社区）区划代码必填")
        elif village not in self.villages:
            fail("village", f"未知的村（社区）{village}")
        row["village"] = village
        row["household"] = _text(cells["household"])[:40]
        row["address"] = _text(cells["address"])[:200]
        populations = [p for p in SPLIT_RE.split(_text(cells["key_populations"])) if p]
        unknown = [p for p in populations if p not in residents.KEY_POPULATIONS]
        if unknown:
            fail("key_populations", "未知的重点人群：" + "、".join(unknown))
        row["key_populations"] = populations
        row["chronic_diseases"] = [d[:30] for d in SPLIT_RE.split(_text(cells["chronic_diseases"])) if d][:20]
        package_name = _text(cells["package"])
        package = self.packages.get(package_name or "") or (None if package_name else self.packages[""])
        if package is None:
            fail("package", f"未知的服务包 {package_name}")
        row["package"] = package
        term = cells["term_years"]
        if term in (None, ""):
            term = package["term_years"] if package else 1
        try:
            term = int(str(term).strip().removesuffix("年"))
            check_term(term, self.max_term)
        except (ValueError, InvalidInput):
            fail("term_years", f"签约年限应为 1 到 {self.max_term} 年")
        row["term_years"] = term
        start = _day(cells["start"], self.today)
        if start is None:
            fail("start", "签约日期格式应为 YYYY-MM-DD")
        elif start > self.today:
            fail("start", "签约日期不能晚于今天")
        elif isinstance(term, int) and signings.add_years(_moment(start), term) <= now():
            fail("start", "按签约日期和年限，该签约已到期")
        row["start"] = start
        return (None if errors else row), errors


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _day(value: object, today: date) -> date | None:
    if value in (None, ""):
        return today
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        return None


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=CST)


# -- running an import -------------------------------------------------------------------------------------------

def _problem(row: dict[str, Any], key: str, message: str) -> dict[str, Any]:
    return {"row": row["row"], "name": row.get("name") or row.get("resident_name", ""),
            "id_number": idcard.mask_id_number(row.get("id_number")),
            "errors": [{"column": TITLES[key], "message": message}]}


def render_error(doc: dict[str, Any]) -> dict[str, Any]:
    return {"row": doc["row"], "name": doc["name"], "id_number": doc["id_number"], "errors": doc["errors"]}


def render_import(doc: dict[str, Any]) -> dict[str, Any]:
    status = doc["status"]
    if status in ("reading", "importing") and now() - doc["updated_at"] > timedelta(seconds=STALLED_SECS):
        status = "stalled"  # the process running it stopped
    return {"id": doc["_id"], "filename": doc["filename"], "status": status, "total": doc["total"],
            "processed": doc["processed"], "imported": doc["imported"], "unchanged": doc["unchanged"],
            "failed": doc["failed"], "error": doc.get("error"), "created_at": iso(doc["created_at"]),
            "finished_at": iso(doc.get("finished_at")), "team_id": doc["team_id"], "by": doc["by"],
            "doctor_id": doc.get("doctor_id", doc["by"])}


class Imports:
    """Excel imports of signing data (``signing_imports``, ``signing_import_errors``), built once per hub
    (``service(hub)``); running imports are this hub's tasks."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.db = hub.db

    def running_imports(self) -> set[asyncio.Task]:
        """This hub's import tasks (kept on the self.hub, so that each hub in a process has its own)."""
        return self.hub.plugin_state.setdefault("signing", {}).setdefault("imports", set())

    async def start_import(self, ctx: RequestContext, team: dict[str, Any], data: bytes, filename: str,
                           doctor: dict[str, Any] | None = None) -> dict[str, Any]:
        """Check the header, store the job, and import in the background (this hub's task). The rows become
        signings of ``team`` with ``doctor`` (default: the actor, a doctor of the team; an institution admin
        imports for a doctor of one of its teams)."""
        actor, address = ctx.actor or {}, ctx.address
        doctor = doctor or actor
        await read_header(data)
        job = {"_id": new_id(), "by": actor["_id"], "team_id": team["_id"], "doctor_id": doctor["_id"],
               "institution_id": team.get("institution_id"),
               "filename": filename[:100], "status": "reading", "total": 0, "processed": 0, "imported": 0,
               "unchanged": 0, "failed": 0, "created_at": now(), "updated_at": now(), "finished_at": None}
        await self.db.signing_imports.insert_one(job)
        await self.hub.audit.record(actor=actor, action="signing.import_start", target=job["_id"], address=address,
                               details={"filename": job["filename"], "bytes": len(data)})
        task = asyncio.create_task(self._run(actor, doctor, team, job, data, address),
                                   name=f"signing-import-{job['_id']}")
        tasks = self.running_imports()
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return job

    async def stop_imports(self) -> None:
        await cancel_and_wait(set(self.running_imports()))

    async def _run(self, actor: dict[str, Any], doctor: dict[str, Any], team: dict[str, Any], job: dict[str, Any],
                   data: bytes, address: str) -> None:
        try:
            rows = await read_rows(data, self.hub.config["signing.import_max_rows"])
            await self._progress(job, status="importing", total=len(rows))
            villages = await self.hub.roster.regions.village_codes()
            by_name = {p["name"]: p for p in await self.hub.roster.packages.enabled()}
            by_name[""] = await self.hub.roster.packages.get(None)
            checker = RowChecker(villages, by_name, self.hub.config["signing.max_term_years"], datetime.now(CST).date())
            counts = {"imported": 0, "unchanged": 0, "failed": 0}
            for first in range(0, len(rows), BATCH_ROWS):
                batch = rows[first:first + BATCH_ROWS]
                await self._import_batch(actor, doctor, team, job, checker, batch, counts)
                await self._progress(job, processed=first + len(batch), **counts)
            await self._progress(job, status="done", finished_at=now())
            await self.hub.audit.record(actor=actor, action="signing.import", target=job["_id"], address=address,
                                   details={"total": len(rows), **counts})
        except HubError as exc:
            await self._progress(job, status="failed", error=exc.message, finished_at=now())
        except asyncio.CancelledError:
            await asyncio.shield(self._progress(job, status="interrupted", finished_at=now()))
            raise
        except Exception:
            log.exception("signing import %s failed", job["_id"])
            await self._progress(job, status="failed", error="导入出错，请重试", finished_at=now())

    async def _progress(self, job: dict[str, Any], **changes: Any) -> None:
        await self.db.signing_imports.update_one({"_id": job["_id"]}, {"$set": {**changes, "updated_at": now()}})

    async def _import_batch(self, actor: dict[str, Any], doctor: dict[str, Any], team: dict[str, Any],
                            job: dict[str, Any], checker: RowChecker, batch: list[tuple[int, tuple]],
                            counts: dict[str, int]) -> None:
        problems: list[dict[str, Any]] = []
        valid: list[dict[str, Any]] = []
        for number, values in batch:
            row, errors = checker.check(number, values)
            if row is not None and (errors := await self._screen_row(actor, job, row)):
                row = None
            if row is None:
                problems.append({"row": number, "name": _text(values[0])[:30],
                                 "id_number": idcard.mask_id_number(_text(values[1])[:18]), "errors": errors})
            else:
                valid.append(row)
        owner, locked = await self._lease_existing(valid)
        try:
            await self._sign_rows(actor, doctor, team, job, valid, locked, problems, counts)
        finally:
            await locks.release_many(self.hub, owner, locked)

    async def _lease_existing(self, valid: list[dict[str, Any]]) -> tuple[str, set[str]]:
        """The leases of the rows' residents already in the roster (a new resident's id is nobody else's yet)."""
        found = await self.hub.roster.residents.by_id_numbers([r["id_number"] for r in valid], {"_id": 1})
        ids = [r["_id"] for r in found]
        return await locks.acquire_many(self.hub, ids)

    async def _sign_rows(self, actor: dict[str, Any], doctor: dict[str, Any], team: dict[str, Any],
                         job: dict[str, Any], valid: list[dict[str, Any]], locked: set[str],
                         problems: list[dict[str, Any]], counts: dict[str, int]) -> None:
        """Sign the checked rows of a batch through the rules every mode uses (``signings.check_signable``), the
        rows' residents read again under their leases; written in bulk."""
        existing = {r["id_number"]: r for r in await self.hub.roster.residents.by_id_numbers(
            [r["id_number"] for r in valid],
            {"id_number": 1, "unable": 1, "tags": 1, "account_id": 1, "region": 1, "name": 1, "team_id": 1})}
        holders = {s["active_key"]: s for s in await find_in(
            self.db.signings, "active_key", [r["_id"] for r in existing.values()],
            {"active_key": 1, "team_id": 1, "start": 1, "status": 1})}
        names = sorted({n for r in valid for n in (*r["key_populations"], *r["chronic_diseases"])} | DERIVED)
        tag_ids = dict(zip(names, await self.hub.roster.tags.ensure(names), strict=True))
        moment = now()
        notice_days = self.hub.config["signing.renewal_notice_days"]
        new_residents, new_signings, updates = [], [], []
        row_of: dict[str, dict[str, Any]] = {}
        for row in valid:
            start = _moment(row["start"])
            found = existing.get(row["id_number"])
            holder = holders.get(found["_id"]) if found else None
            if found and found["_id"] not in locked:
                problems.append(_problem(row, "id_number", locks.Busy.message))
                continue
            if (holder is not None and holder["status"] == "active" and holder["team_id"] == team["_id"]
                    and holder.get("start") == start and (found or {}).get("name") == row["name"]):
                counts["unchanged"] += 1
                continue
            populations = residents.derived_populations(row["birth_date"], row["key_populations"])
            resident = found or residents.new_resident(
                {"name": row["name"], "id_number": row["id_number"], "birth_date": row["birth_date"].isoformat(),
                 "sex": row["sex"], "phone": row["phone"], "address": row["address"], "village": row["village"],
                 "region": row["village"], "household": row["household"], "key_populations": populations,
                 "chronic_diseases": row["chronic_diseases"]}, created_by=actor["_id"])
            try:
                signings.check_signable(actor, resident, holder=holder, team=team, doctor=doctor,
                                        given_name=row["name"] if found else None)
            except HubError as exc:
                problems.append(_problem(row, "id_number" if found else "village", exc.message))
                continue
            end = signings.add_years(start, row["term_years"])
            signing_id = new_id()
            new_signings.append(signings.new_signing(
                resident | {"id_number": row["id_number"]}, team=team, doctor=doctor, mode="import", status="active",
                created_by=actor["_id"], package=row["package"], term_years=row["term_years"], start=start,
                moment=moment, signing_id=signing_id, import_id=job["_id"], row=row["row"]))
            signed = {"status": signings.derive_status(unable=False, active_end=end, last_closed=None, moment=moment,
                                                       notice_days=notice_days),
                      "team_id": team["_id"], "institution_id": team.get("institution_id"), "doctor_id": doctor["_id"],
                      "signing_id": signing_id, "signing_end": end, "updated_at": moment}
            row_tags = [tag_ids[n] for n in dict.fromkeys([*populations, *row["chronic_diseases"]])]
            if found:
                updates.append((found["_id"], signed, row_tags))
            else:
                new_residents.append({**resident, **signed, "tags": row_tags})
                row_of[resident["_id"]] = row
        failed_residents = await self.hub.roster.residents.insert_many(new_residents)
        for resident_id in failed_residents:
            problems.append(_problem(row_of[resident_id], "id_number", "该身份证号的居民已存在（并发导入）"))
        new_signings = [s for s in new_signings if s["resident_id"] not in failed_residents]
        failed_signings = await insert_unordered(self.db.signings, new_signings)
        for doc in new_signings:
            if doc["_id"] in failed_signings:
                problems.append(_problem(doc, "id_number", "该居民已有有效签约或待审核的申请"))
                await signings.service(self.hub).refresh_status(doc["resident_id"])
        signed_ids = {s["resident_id"] for s in new_signings if s["_id"] not in failed_signings}
        await self.hub.roster.residents.apply_states([u for u in updates if u[0] in signed_ids])
        if problems:
            await self.db.signing_import_errors.insert_many([{"_id": new_id(), "import_id": job["_id"], **p}
                                                        for p in sorted(problems, key=lambda p: p["row"])])
        counts["imported"] += len(signed_ids)
        counts["failed"] += len(problems)
        if signed_ids:
            await self.hub.events.emit("signing.imported", {
                "import_id": job["_id"], "team_id": team["_id"], "institution_id": team.get("institution_id"),
                "doctor_id": doctor["_id"], "count": len(signed_ids),
                "signing_ids": [s["_id"] for s in new_signings if s["_id"] not in failed_signings]})

    async def _screen_row(self, actor: dict[str, Any], job: dict[str, Any], row: dict[str, Any]
                          ) -> list[dict[str, str]]:
        """A row's typed text checked and screened as the resident form's (``schemas.RESIDENT_TEXT``): a control
        character or a blocked word fails the row naming the column; masked text is stored masked."""
        declared = Body.of("resident", RESIDENT_TEXT)
        try:
            checked = declared.check({key: row[key] for key in declared.fields})
            await screen_fields(self.hub, declared, checked, actor, {"plugin": "signing", "import_id": job["_id"],
                                                                 "row": row["row"]})
        except (InvalidInput, ContentBlocked) as exc:
            return [{"column": TITLES[exc.details["field"]], "message": exc.message}]
        row.update(checked)
        return []

    async def get_import(self, user: dict[str, Any], import_id: str) -> dict[str, Any]:
        """An import, for the account that started it, a member of its team or its institution's admin."""
        job = await get_by_id(self.db.signing_imports, import_id, "导入任务不存在")
        if job["by"] != user["_id"] and not (user["role"] in TEAM_ROLES and user.get("team_id") == job["team_id"]) \
                and not (user["role"] == "admin" and user.get("institution_id")
                         and user["institution_id"] == job.get("institution_id")):
            raise Forbidden("无权查看该导入", import_id=import_id)
        return job

    async def page_imports(self, query: dict[str, Any], *, limit: int, cursor: str | None
                           ) -> tuple[list[dict[str, Any]], str | None]:
        """The imports of a team (``{"team_id"}``) or an institution (``{"institution_id"}``), newest first."""
        return await page(self.db.signing_imports, query, limit=limit, cursor=cursor)

    async def page_errors(self, import_id: str, *, limit: int, cursor: str | None
                          ) -> tuple[list[dict[str, Any]], str | None]:
        """An import's per-row errors, by row."""
        return await page(self.db.signing_import_errors, {"import_id": import_id}, limit=limit, cursor=cursor,
                          newest_first=False)

    async def all_errors(self, import_id: str) -> list[dict[str, Any]]:
        return await self.db.signing_import_errors.find({"import_id": import_id}).sort("row", 1).to_list()


def service(hub: Any) -> Imports:
    """The hub's one ``Imports`` (kept in ``hub.plugin_state["signing"]``, built on first use)."""
    state = hub.plugin_state.setdefault("signing", {})
    if "imports_service" not in state:
        state["imports_service"] = Imports(hub)
    return state["imports_service"]
