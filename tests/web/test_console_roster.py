"""The signing plugin's roster pages (录入签约, 花名册选人, Excel 导入, 团队管理, 机构, 服务包) in Debian's Chromium at
1440 px against a real hub seeded with the demo county, each driven end to end by the role that uses it: doctor.wang
signs (entry and pick) and imports, admin.lin imports for a team and runs the teams. No console errors anywhere;
screenshots go to ``$HUB_SCREENSHOTS`` (default ``/tmp/hub-screenshots/``), their folder printed.

Pages are opened in the real console shell (``/console``, ``#/signing/...``) with a minted token in the session
the shell reads (``jtyh.session``), so no test depends on the login form (the shell's own tests cover it)."""

from __future__ import annotations

import io
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from playwright.async_api import Browser, Page, async_playwright, expect

from hub.demo import seed_demo
from hub.roster.idcard import make_id_number
from plugins.signing.imports import HEADERS
from tests.support import RunningHub, api, hub_overrides, require_or_skip, start_hub

CHROMIUM = shutil.which("chromium")
VIEWPORT = {"width": 1440, "height": 900}
WAIT_MS = 15_000
SHOTS = Path(os.environ.get("HUB_SCREENSHOTS") or "/tmp/hub-screenshots")
@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_or_skip("Debian's Chromium", CHROMIUM is not None, "apt-get install chromium")


@pytest.fixture(scope="module")
async def demo(mongo: Any) -> AsyncIterator[RunningHub]:
    """One hub with the demo county (fewer residents than ``make run``) for the module; tests change distinct
    residents and teams, so they share it."""
    running = await start_hub(hub_overrides(mongo.uri, "t_roster_" + uuid.uuid4().hex[:8], plugins={"signing": True},
                                            **{"signing.demo_residents": 240}))
    await seed_demo(running.hub)
    running.users = {u["username"]: u async for u in running.hub.db.users.find({})}
    yield running
    await running.hub.db.command("dropDatabase")
    await running.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


def token(demo: RunningHub, login: str) -> str:
    return demo.hub.accounts.grant(demo.users[login]).access_token


class Console:
    """One page module of the signing plugin open for one login, with the browser console's errors."""

    def __init__(self, page: Page, errors: list[str]) -> None:
        self.page, self.errors = page, errors
        self.expected: list[tuple[int, str]] = []  # refusals a test provokes on purpose: (status, path)

    def refused(self, status: int, url: str) -> None:
        """A response of 400 or more: an error unless the test said it would provoke it."""
        path = url.split("?", 1)[0]
        if (status, path.split("/", 3)[-1]) in [(s, p.lstrip("/")) for s, p in self.expected]:
            return
        self.errors.append(f"{status} {url}")

    def by(self, testid: str) -> Any:
        return self.page.get_by_test_id(testid)

    async def choose(self, testid: str, option: str) -> None:
        """Pick ``option`` in the Element Plus select carrying ``testid``."""
        await self.by(testid).click()
        await self.page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()

    async def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"console-roster-{name}.png"
        await self.page.wait_for_timeout(400)  # Element Plus transitions last 0.3 s: a still picture, not a check
        await self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path


@pytest.fixture
async def console(demo: RunningHub, browser: Browser) -> AsyncIterator[Any]:
    opened: list[Console] = []

    async def open_page(login: str, path: str) -> Console:
        context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                            accept_downloads=True)
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        errors: list[str] = []
        # Chromium logs every 4xx/5xx response as a console error without its URL; responses are checked
        # instead (Console.refused), every other console error counts.
        page.on("console", lambda msg: errors.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        user = demo.users[login]
        session = {"token": token(demo, login), "expires_at": None,
                   "user": {"id": user["_id"], "role": user["role"], "name": user["name"]}}
        await page.goto(f"{demo.url}/console")
        await page.evaluate("(s) => sessionStorage.setItem('jtyh.session', s)", json.dumps(session))
        errors.clear()  # the login form, before the session was there
        await page.goto(f"{demo.url}/console#{path}")
        await page.reload()  # a change of the hash alone does not load the page again
        await expect(page.get_by_test_id("console-shell")).to_be_visible()
        found = Console(page, errors)
        page.on("response", lambda response: found.refused(response.status, response.url)
                if response.status >= 400 else None)
        opened.append(found)
        return found

    yield open_page
    for found in opened:
        await found.page.context.close()
    for found in opened:
        assert found.errors == [], found.errors


def valid_id(born: date, sequence: int) -> str:
    return make_id_number("330522", born, sequence)


async def test_entry_checks_the_id_number_as_typed_and_signs(demo: RunningHub, console: Any) -> None:
    page = await console("doctor.wang", "/signing/sign")
    await expect(page.by("sign-team")).to_have_text("雉城街道家庭医生一团队")
    await expect(page.by("sign-package")).to_contain_text("基础服务包")  # the form is loaded
    number = valid_id(date(1958, 7, 9), 731)
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    await page.by("sign-id-number").fill(wrong)
    form_item = page.page.locator(".el-form-item", has=page.by("sign-id-number"))
    await expect(form_item.locator(".el-form-item__error")).to_have_text("身份证号校验位不正确")
    await page.shot("sign-wrong-check-digit")
    await page.by("sign-id-number").fill(number)
    await expect(form_item.locator(".el-form-item__error")).to_have_count(0)
    await expect(page.by("sign-id-derived")).to_contain_text("1958-07-09")
    await page.by("sign-name").fill("录入测试")
    await page.by("sign-phone").fill("13812345678")
    await page.by("sign-address").fill("城东村录入路1号")
    # a village outside the doctor's service area: the server refuses, and says so at the village field
    await page.choose("sign-town", "和平镇")
    await page.choose("sign-village", "和平村")
    page.expected.append((403, "/api/signing/signings"))
    await page.by("sign-submit").click()
    village_item = page.page.locator(".el-form-item", has=page.by("sign-village"))
    await expect(village_item.locator(".el-form-item__error")).to_have_text("该村不在您的服务范围内")
    await page.choose("sign-town", "雉城街道")
    await page.choose("sign-village", "城东村")
    await page.by("sign-submit").click()
    await expect(page.by("sign-result-status")).to_have_text("已签约")
    await expect(page.by("sign-result")).to_contain_text("录入测试")
    await page.shot("sign-created")
    status, found = await api(demo.url, "GET", "/api/signing/signings?mode=entry&name=录入测试",
                              token(demo, "doctor.wang"))
    assert status == 200 and [(s["resident_name"], s["status"]) for s in found["items"]] == [("录入测试", "active")]


async def household_to_pick(demo: RunningHub) -> tuple[str, list[dict[str, Any]]]:
    """A village of doctor.wang's town and a household in it with two residents nobody has signed."""
    auth = token(demo, "doctor.wang")
    for village in ("330522100201", "330522100202", "330522100203"):
        status, found = await api(demo.url, "GET", f"/api/signing/households?village={village}&limit=200", auth)
        assert status == 200, found
        for household in found["items"]:
            free = [m for m in household["members"] if m["status"] in ("unsigned", "refused")]
            if len(free) >= 2 and household["household"]:
                return village, free[:2]
    raise AssertionError("the demo county has no household with two unsigned residents")


async def test_pick_two_residents_of_a_household_and_sign_them(demo: RunningHub, console: Any) -> None:
    village, picked = await household_to_pick(demo)
    names = {"330522100201": "城东村", "330522100202": "城西村", "330522100203": "画溪村"}
    page = await console("doctor.wang", "/signing/pick")
    await expect(page.by("pick-households").locator(".el-collapse-item").first).to_be_visible()  # loaded
    await page.choose("pick-village", names[village])
    household = page.by(f"pick-household-{picked[0]['household']}")
    await household.locator(".el-collapse-item__header").scroll_into_view_if_needed()
    if not await page.by(f"pick-resident-{picked[0]['id']}").is_visible():
        await household.locator(".el-collapse-item__header").click()
    for resident in picked:
        await page.by(f"pick-resident-{resident['id']}").click()
    await expect(page.by("pick-submit")).to_contain_text("2 人")
    await page.shot("pick-ticked")
    await page.by("pick-submit").click()
    await expect(page.by("pick-result")).to_contain_text("已签约 2 人")
    for resident in picked:
        await expect(page.by(f"pick-status-{resident['id']}")).to_have_text("已签约")
    await page.shot("pick-signed")
    auth = token(demo, "doctor.wang")
    for resident in picked:
        status, found = await api(demo.url, "GET", f"/api/signing/signings?resident_id={resident['id']}", auth)
        assert status == 200 and [(s["mode"], s["status"]) for s in found["items"]][:1] == [("pick", "active")]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def run_import(page: Console, tmp_path: Path, name: str, first: int) -> None:
    good = [valid_id(date(1949, 2, 3), first), valid_id(date(1990, 5, 6), first + 1)]
    bad = valid_id(date(1970, 1, 1), first + 2)
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    data = workbook([[f"{name}甲", good[0], None, "330522100201", "D1", "城东村导入1号", None, None, None, 1, None],
                     [f"{name}乙", good[1], None, "330522100202", "D2", "城西村导入2号", None, None, None, 1, None],
                     [f"{name}错", bad, None, "330522100201", None, None, None, None, None, None, None]])
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(data)
    await page.by("import-file").set_input_files(str(path))
    await expect(page.by("import-progress")).to_be_visible()
    await expect(page.by("import-status")).to_have_text("已完成")
    await expect(page.by("import-progress")).to_contain_text("100%")
    await expect(page.by("import-imported")).to_have_text("2")
    await expect(page.by("import-failed")).to_have_text("1")
    rows = page.by("import-rows")
    await expect(rows).to_contain_text("身份证号校验位不正确")
    await expect(rows.locator("tbody tr")).to_have_count(1)
    await expect(rows.locator("tbody tr").first.locator("td").first).to_have_text("4")  # row 4: header is row 1
    async with page.page.expect_download() as info:
        await page.by("import-report").click()
    report = load_workbook(io.BytesIO(Path(await (await info.value).path()).read_bytes()), read_only=True)
    lines = [tuple(r) for r in report.worksheets[0].iter_rows(values_only=True)]
    assert lines[0][0] == "行号" and [line[0] for line in lines[1:]] == [4], lines


async def test_doctor_imports_a_workbook_with_a_bad_row(console: Any, tmp_path: Path) -> None:
    page = await console("doctor.wang", "/signing/import")
    async with page.page.expect_download() as info:
        await page.by("import-template").click()
    template = load_workbook(io.BytesIO(Path(await (await info.value).path()).read_bytes()), read_only=True)
    assert tuple(next(template.worksheets[0].iter_rows(values_only=True))) == HEADERS
    await run_import(page, tmp_path, "医导", 801)
    await expect(page.by("import-history")).to_contain_text("医导.xlsx")
    await page.shot("import-doctor-report")


async def test_admin_imports_for_a_team_and_doctor(demo: RunningHub, console: Any, tmp_path: Path) -> None:
    page = await console("admin.lin", "/signing/import")
    await expect(page.by("import-doctor")).to_contain_text("王医生")
    await run_import(page, tmp_path, "机导", 811)
    await page.shot("import-admin-report")
    status, found = await api(demo.url, "GET", "/api/signing/signings?mode=import&name=机导甲",
                              token(demo, "admin.lin"))
    assert status == 200 and [s["doctor_name"] for s in found["items"]] == ["王医生"]


async def test_admin_changes_a_team_leader_and_sees_it_in_the_history(demo: RunningHub, console: Any) -> None:
    page = await console("admin.lin", "/signing/teams")
    await page.by("teams-list").get_by_text("雉城街道家庭医生二团队").click()
    await expect(page.by("team-name")).to_have_text("雉城街道家庭医生二团队")
    leader_before = (await page.by("team-leader").inner_text()).strip()
    status, team = await api(demo.url, "GET", "/api/signing/teams?limit=100", token(demo, "admin.lin"))
    second = next(t for t in team["items"] if t["name"] == "雉城街道家庭医生二团队")
    other = next(m for m in second["members"] if m["id"] != second["leader_id"])
    await page.by(f"team-make-leader-{other['id']}").click()
    await expect(page.by("team-leader")).to_have_text(other["name"])
    history = page.by("team-history")
    await expect(history.locator("tbody tr").first).to_contain_text(f"团队长：{leader_before} → {other['name']}")
    await expect(history.locator("tbody tr").first).to_contain_text("林管理员")
    await page.shot("teams-leader-changed")
    status, found = await api(demo.url, "GET", f"/api/signing/teams/{second['id']}", token(demo, "admin.lin"))
    assert status == 200 and found["leader_id"] == other["id"]


async def test_institutions_and_a_new_package(demo: RunningHub, console: Any) -> None:
    page = await console("admin.lin", "/signing/institutions")
    await expect(page.by("institution-teams")).to_contain_text("雉城街道家庭医生一团队")
    await expect(page.by("institutions-create")).to_have_count(0)  # a sysadmin's action
    await page.shot("institutions")
    page = await console("admin.lin", "/signing/packages")
    await expect(page.by("packages-list")).to_contain_text("基础服务包")
    await page.by("packages-create").click()
    await page.by("package-form-name").fill("老年人健康包")
    await page.by("package-item-name-0").fill("上门随访")
    await page.by("package-form-save").click()
    await expect(page.by("packages-list")).to_contain_text("老年人健康包")
    await page.shot("packages")
    status, found = await api(demo.url, "GET", "/api/signing/packages", token(demo, "admin.lin"))
    assert status == 200 and any(p["name"] == "老年人健康包" and p["items"][0]["name"] == "上门随访"
                                 for p in found["items"])


ROSTER_MENU = ("/signing/sign", "/signing/pick", "/signing/import", "/signing/teams", "/signing/institutions",
               "/signing/packages")


@pytest.mark.parametrize(("login", "shown"), [
    ("doctor.wang", {"/signing/sign", "/signing/pick", "/signing/import", "/signing/packages"}),
    ("admin.lin", {"/signing/import", "/signing/teams", "/signing/institutions", "/signing/packages"}),
    ("leader.qian", set(ROSTER_MENU) - {"/signing/institutions"}),
    ("assistant.sun", set()),
])
async def test_each_role_sees_only_its_roster_pages(console: Any, login: str, shown: set[str]) -> None:
    page = await console(login, "/")
    menu = page.by("menu")
    await expect(page.by("menu-home")).to_be_visible()
    for path in ROSTER_MENU:
        await expect(menu.get_by_test_id(f"menu-{path}")).to_have_count(1 if path in shown else 0)
    if login == "admin.lin":  # a page of another role, opened by its address
        await page.page.goto(page.page.url.split("#")[0] + "#/signing/sign")
        await expect(page.by("forbidden")).to_be_visible()
        await page.shot("admin-menu-forbidden")
