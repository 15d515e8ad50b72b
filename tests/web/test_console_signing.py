"""The signing plugin's review centre and resident management in the console (1440 px) against a real hub with
the demo county: doctor.wang approves and rejects applications and filters them by ID number and name; the
supervisor approves, rejects and lifts unable-to-sign requests; doctor.wang manages residents by village and status
class, searches, renews, terminates, records a refusal, tags in bulk and exports the list (a real xlsx). Roles that
may not use a page see no menu entry and get 无权访问. No console errors (``page_errors``); screenshots by ``shot``.
Every state a test changes is checked through the API afterwards."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from playwright.async_api import Page, expect

from hub.roster.idcard import make_id_number
from tests.support import RunningHub, api, wait_for
from tests.web.conftest import demo_user, fill, session_for

WEB_HUB_SETTINGS = {"signing.demo_residents": 300}
VILLAGE = "330522100201"  # 城东村 of 雉城街道, doctor.wang's town


async def token(web_hub: RunningHub, who: str) -> str:
    return (await session_for(web_hub, demo_user(web_hub, who)))["token"]


async def call(web_hub: RunningHub, who: str, method: str, path: str, body: Any = None) -> Any:
    status, found = await api(web_hub.url, method, path, await token(web_hub, who), body)
    assert status < 300, (status, found)
    return found


async def settle(page: Page) -> None:
    """Element Plus dialogs and tabs animate for 0.3 s: a still picture for a screenshot, not a check."""
    await page.wait_for_timeout(350)


async def choose(page: Page, testid: str, option: str) -> None:
    await page.get_by_test_id(testid).click()
    await page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


# -- resident management --------------------------------------------------------------------------------------

async def test_residents_by_village_status_and_keyword(console, web_hub, shot) -> None:
    page = await console("doctor", "/signing/residents")
    table = page.get_by_test_id("residents-table")
    await expect(table.get_by_test_id("resident-row").first).to_be_visible()
    everyone = await call(web_hub, "doctor", "GET", "/api/signing/residents?with_counts=true&limit=1")
    await expect(page.get_by_test_id("residents-total")).to_have_text(str(everyone["total"]))
    await expect(page.get_by_test_id("residents-tab-signed")).to_have_text(f"已签约 {everyone['counts']['signed']}")
    await shot(page, "console-residents-all")

    # paging by cursor: the next page has other residents, the previous one the first again
    assert everyone["total"] > 20
    first_page = await table.get_by_test_id("resident-name").all_inner_texts()
    ids_of = "(rows) => rows.map((r) => r.dataset.resident)"
    first_ids = await table.get_by_test_id("resident-row").evaluate_all(ids_of)
    await page.get_by_test_id("residents-next").click()
    await expect(page.get_by_test_id("residents-page-number")).to_contain_text("第 2 /")
    await expect(table.locator(f"[data-resident='{first_ids[0]}']")).to_have_count(0)
    second_ids = await table.get_by_test_id("resident-row").evaluate_all(ids_of)
    assert second_ids and not set(second_ids) & set(first_ids)
    await page.get_by_test_id("residents-prev").click()
    await expect(table.locator(f"[data-resident='{first_ids[0]}']")).to_have_count(1)
    assert await table.get_by_test_id("resident-name").all_inner_texts() == first_page

    await page.get_by_test_id("region-330522100000").click()  # 雉城街道
    await expect(page.get_by_test_id("residents-region")).to_have_text("雉城街道")
    await page.locator(".el-tree-node", has=page.get_by_test_id("region-330522100000")).locator(
        ".el-tree-node__expand-icon").click()
    await page.get_by_test_id(f"region-{VILLAGE}").click()
    await expect(page.get_by_test_id("residents-region")).to_have_text("城东村")
    village = await call(web_hub, "doctor", "GET", f"/api/signing/residents?with_counts=true&village={VILLAGE}")
    await expect(page.get_by_test_id("residents-total")).to_have_text(str(village["total"]))
    await page.get_by_test_id("residents-tab-unsigned").click()
    unsigned = await call(web_hub, "doctor", "GET",
                          f"/api/signing/residents?with_counts=true&village={VILLAGE}&status=unsigned")
    await expect(page.get_by_test_id("residents-total")).to_have_text(str(unsigned["total"]))
    await expect(table.get_by_test_id("resident-row")).to_have_count(min(20, unsigned["total"]))
    for status in await table.locator("[data-testid^='resident-status-']").all_inner_texts():
        assert status.strip() == "未签约"
    await settle(page)
    await shot(page, "console-residents-village-unsigned")

    # the keyword: a name, then a whole ID number (masked in the list)
    someone = unsigned["items"][0]
    await fill(page, "residents-search", someone["name"])
    await page.get_by_test_id("residents-search-submit").click()
    found = await call(web_hub, "doctor", "GET", f"/api/signing/residents?with_counts=true&village={VILLAGE}"
                       f"&status=unsigned&q={someone['name']}")
    await expect(page.get_by_test_id("residents-total")).to_have_text(str(found["total"]))
    await expect(table.get_by_test_id("resident-row")).to_have_count(found["total"])
    assert all(someone["name"] in n for n in await table.get_by_test_id("resident-name").all_inner_texts())

    # a whole ID number finds the one resident (a lookup, audited); the list still shows it masked
    whole = (await web_hub.hub.db.residents.find_one({"_id": someone["id"]}))["id_number"]
    await fill(page, "residents-search", whole)
    await page.get_by_test_id("residents-search-submit").click()
    await expect(page.get_by_test_id("residents-total")).to_have_text("1")
    row = table.get_by_test_id("resident-row")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(someone["id_number"])
    assert whole not in await row.inner_text()
    await shot(page, "console-residents-by-id-number")

    # a link may open a status class (?status=, e.g. from a to-do list)
    linked = await console("doctor", "/signing/residents?status=refused")
    refused = await call(web_hub, "doctor", "GET", "/api/signing/residents?with_counts=true&status=refused")
    await expect(linked.get_by_test_id("residents-total")).to_have_text(str(refused["total"]))
    await expect(linked.locator(".residents-tabs .el-tabs__item.is-active")).to_contain_text("拒签")


async def resident_with(web_hub: RunningHub, status: str, *, ours: bool = True, skip: int = 0) -> dict[str, Any]:
    """A resident of doctor.wang's scope in a status class: held by the doctor's team when ``ours``, else held by
    no team (no pending application either). The demo is seeded once per module: each test takes others."""
    team = demo_user(web_hub, "doctor")["team_id"]
    found = await call(web_hub, "doctor", "GET", f"/api/signing/residents?status={status}&limit=200")
    # not a record a demo login manages (resident.zhang's own signing stays, for the other tests)
    matching = [r for r in found["items"] if r["team_id"] == (team if ours else None) and not r["managed"]]
    assert len(matching) > skip, f"the demo has no {status} resident of the team"
    return matching[skip]


async def find_row(page: Page, resident: dict[str, Any], status_tab: str) -> None:
    """Narrow the list to one resident by status class and name, so its row is on the first page."""
    await page.get_by_test_id(f"residents-tab-{status_tab}").click()
    await fill(page, "residents-search", resident["name"])
    await page.get_by_test_id("residents-search-submit").click()
    await expect(page.get_by_test_id(f"resident-status-{resident['id']}")).to_be_visible()


async def test_resident_row_actions_renew_terminate_refuse(console, web_hub, shot) -> None:
    to_renew = await resident_with(web_hub, "to_renew")
    signed = await resident_with(web_hub, "signed")
    unsigned = await resident_with(web_hub, "unsigned", ours=False)
    page = await console("doctor", "/signing/residents")
    await expect(page.get_by_test_id("resident-row").first).to_be_visible()

    await find_row(page, to_renew, "to_renew")
    await page.get_by_test_id(f"resident-renew-{to_renew['id']}").click()
    await fill(page, "residents-term-years", "2")
    await settle(page)
    await shot(page, "console-residents-renew")
    await page.get_by_test_id("residents-term-submit").click()
    await expect(page.get_by_test_id(f"resident-status-{to_renew['id']}")).to_have_count(0)  # no more 待续签
    signing = await call(web_hub, "doctor", "GET", f"/api/signing/signings/{to_renew['signing_id']}")
    assert signing["status"] == "active" and signing["term_years"] == 2 and signing["renewals"] == 1
    assert (await call(web_hub, "doctor", "GET", f"/api/signing/residents/{to_renew['id']}"))["status"] == "signed"

    await find_row(page, signed, "signed")
    await page.get_by_test_id(f"resident-terminate-{signed['id']}").click()
    await fill(page, "residents-reason", "居民搬迁至外省")
    await page.get_by_test_id("residents-reason-submit").click()
    await expect(page.get_by_test_id(f"resident-status-{signed['id']}")).to_have_count(0)
    signing = await call(web_hub, "doctor", "GET", f"/api/signing/signings/{signed['signing_id']}")
    assert signing["status"] == "terminated" and signing["reason"] == "居民搬迁至外省"

    await find_row(page, unsigned, "unsigned")
    await page.get_by_test_id(f"resident-refuse-{unsigned['id']}").click()
    await fill(page, "residents-reason", "暂不需要家庭医生服务")
    await settle(page)
    await shot(page, "console-residents-refuse")
    await page.get_by_test_id("residents-reason-submit").click()
    await expect(page.get_by_test_id(f"resident-status-{unsigned['id']}")).to_have_count(0)
    await page.get_by_test_id("residents-tab-refused").click()
    await expect(page.get_by_test_id(f"resident-status-{unsigned['id']}")).to_have_text("拒签")
    assert (await call(web_hub, "doctor", "GET", f"/api/signing/residents/{unsigned['id']}"))["status"] == "refused"

    # who refused may still sign later: 签约 with the package and a term
    await page.get_by_test_id(f"resident-sign-{unsigned['id']}").click()
    await expect(page.get_by_test_id("residents-term-package")).to_contain_text("基础服务包")
    await fill(page, "residents-term-years", "3")
    await page.get_by_test_id("residents-term-submit").click()
    await expect(page.get_by_test_id(f"resident-status-{unsigned['id']}")).to_have_count(0)
    now_signed = await call(web_hub, "doctor", "GET", f"/api/signing/residents/{unsigned['id']}")
    assert now_signed["status"] == "signed" and now_signed["team_id"] == demo_user(web_hub, "doctor")["team_id"]
    signing = await call(web_hub, "doctor", "GET", f"/api/signing/signings/{now_signed['signing_id']}")
    assert signing["term_years"] == 3 and signing["mode"] == "entry"
    await page.get_by_test_id("residents-tab-signed").click()
    await expect(page.get_by_test_id(f"resident-status-{unsigned['id']}")).to_have_text("已签约")

    # edit: the detail's whole phone number is the form's; only what changed is sent
    await page.get_by_test_id(f"resident-more-{unsigned['id']}").click()
    await page.get_by_test_id(f"resident-edit-{unsigned['id']}").click()
    await fill(page, "residents-edit-address", "城东村新村路8号")
    await page.get_by_test_id("residents-edit-submit").click()
    await expect(page.get_by_test_id("residents-edit-submit")).to_be_hidden()
    edited = await call(web_hub, "doctor", "GET", f"/api/signing/residents/{unsigned['id']}")
    assert edited["address"] == "城东村新村路8号" and edited["name"] == unsigned["name"]


async def test_bulk_tags_and_export(console, web_hub, shot) -> None:
    page = await console("doctor", "/signing/residents")
    table = page.get_by_test_id("residents-table")
    await expect(table.get_by_test_id("resident-row").first).to_be_visible()
    await page.get_by_test_id("region-330522100000").click()
    await page.locator(".el-tree-node", has=page.get_by_test_id("region-330522100000")).locator(
        ".el-tree-node__expand-icon").click()
    await page.get_by_test_id(f"region-{VILLAGE}").click()
    await page.get_by_test_id("residents-tab-signed").click()
    listed = await call(web_hub, "doctor", "GET",
                        f"/api/signing/residents?with_counts=true&village={VILLAGE}&status=signed&limit=20")
    await expect(page.get_by_test_id("residents-total")).to_have_text(str(listed["total"]))
    chosen = listed["items"][:2]
    for resident in chosen:
        await page.get_by_test_id(f"resident-select-{resident['id']}").click()
    await expect(page.get_by_test_id("residents-bulk-tags")).to_contain_text("2")
    await page.get_by_test_id("residents-bulk-tags").click()
    await choose(page, "residents-tags-tag", "脱贫人口")
    await settle(page)
    await shot(page, "console-residents-bulk-tags")
    await page.get_by_test_id("residents-tags-submit").click()
    for resident in chosen:
        await expect(page.get_by_test_id(f"resident-tags-{resident['id']}")).to_contain_text("脱贫人口")
        found = await call(web_hub, "doctor", "GET", f"/api/signing/residents/{resident['id']}")
        assert "脱贫人口" in [t["name"] for t in found["tags"]]
    # and off again
    for resident in chosen:
        await page.get_by_test_id(f"resident-select-{resident['id']}").click()
    await page.get_by_test_id("residents-bulk-tags").click()
    await choose(page, "residents-tags-tag", "脱贫人口")
    await page.get_by_test_id("residents-tags-remove").click()
    await page.get_by_test_id("residents-tags-submit").click()
    for resident in chosen:
        await expect(page.get_by_test_id(f"resident-tags-{resident['id']}")).not_to_contain_text("脱贫人口")

    async with page.expect_download() as started:
        await page.get_by_test_id("residents-export").click()
    download = await started.value
    assert download.suggested_filename == "居民名单.xlsx"
    sheet = load_workbook(io.BytesIO(Path(await download.path()).read_bytes())).active
    rows = [r for r in sheet.iter_rows(values_only=True) if any(r)]
    header, body = rows[0], rows[1:]
    assert len(body) == listed["total"]
    names = {r[header.index("姓名")] for r in body}
    assert {r["name"] for r in listed["items"]} <= names
    numbers = [str(r[header.index("身份证号")]) for r in body]
    assert all("*" in n for n in numbers), "the export is masked as the list is"


# -- the review centre ---------------------------------------------------------------------------------------

async def apply_for(web_hub: RunningHub, name: str, sequence: int) -> dict[str, Any]:
    """resident.zhang adds a family member and applies for them with doctor.wang's team."""
    doctor = demo_user(web_hub, "doctor")
    member = await call(web_hub, "resident", "POST", "/api/signing/family", {
        "name": name, "id_number": make_id_number("330522", date(1990, 4, 2), sequence), "village": VILLAGE,
        "relation": "子女"})
    return await call(web_hub, "resident", "POST", "/api/signing/applications", {
        "resident_id": member["id"], "team_id": doctor["team_id"], "doctor_id": doctor["_id"]})


async def test_doctor_reviews_applications(console, web_hub, shot) -> None:
    approved = await apply_for(web_hub, "审核通过甲", 901)
    rejected = await apply_for(web_hub, "审核拒绝乙", 903)
    by_number = await apply_for(web_hub, "审核查询丙", 905)
    before = await call(web_hub, "doctor", "GET", "/api/signing/signings?status=pending&with_counts=true&limit=1")

    async def told() -> bool:
        notices = await web_hub.hub.db.inbox.find({"user": demo_user(web_hub, "doctor")["_id"],
                                                   "data.signing_id": by_number["id"]}).to_list()
        return bool(notices)
    await wait_for(told, "doctor.wang hears of the new application")

    # the bell's notice opens the review page on its 待审核 tab
    page = await console("doctor", "/")
    await page.get_by_test_id("bell").click()
    await page.get_by_test_id("notice").filter(has_text="审核查询丙").first.click()
    await expect(page.get_by_test_id("review-page")).to_be_visible()
    assert page.url.endswith("#/signing/review?tab=pending")
    await expect(page.get_by_test_id("review-tab-pending")).to_have_text(f"待审核 {before['counts']['pending']}")
    await expect(page.get_by_test_id(f"review-row-{approved['id']}")).to_be_visible()
    await settle(page)
    await shot(page, "console-review-pending")

    # by name
    await fill(page, "review-name", "审核通过")
    await page.get_by_test_id("review-search").click()
    await expect(page.get_by_test_id("review-table").locator("[data-testid^='review-row-']")).to_have_count(1)
    await page.get_by_test_id(f"review-approve-{approved['id']}").click()
    await fill(page, "review-term", "2")
    await settle(page)
    await shot(page, "console-review-approve")
    await page.get_by_test_id("review-approve-submit").click()
    await expect(page.get_by_test_id(f"review-row-{approved['id']}")).to_have_count(0)
    signing = await call(web_hub, "doctor", "GET", f"/api/signing/signings/{approved['id']}")
    assert signing["status"] == "active" and signing["term_years"] == 2

    # by a whole ID number (a fragment is refused at the field, before any request)
    await page.get_by_test_id("review-reset").click()
    await expect(page.get_by_test_id(f"review-row-{rejected['id']}")).to_be_visible()
    whole = make_id_number("330522", date(1990, 4, 2), 905)
    await fill(page, "review-id-number", whole[:10])
    await page.get_by_test_id("review-search").click()
    await expect(page.get_by_text("身份证号应为 18 位")).to_be_visible()
    await fill(page, "review-id-number", whole)
    await page.get_by_test_id("review-search").click()
    rows = page.get_by_test_id("review-table").locator("[data-testid^='review-row-']")
    await expect(rows).to_have_count(1)
    await expect(page.get_by_test_id(f"review-row-{by_number['id']}")).to_be_visible()
    await page.get_by_test_id("review-reset").click()

    await page.get_by_test_id(f"review-reject-{rejected['id']}").click()
    await fill(page, "review-reason", "不在本团队服务范围")
    await page.get_by_test_id("review-reject-submit").click()
    await expect(page.get_by_test_id(f"review-row-{rejected['id']}")).to_have_count(0)
    signing = await call(web_hub, "doctor", "GET", f"/api/signing/signings/{rejected['id']}")
    assert signing["status"] == "rejected" and signing["reason"] == "不在本团队服务范围"
    after = await call(web_hub, "doctor", "GET", "/api/signing/signings?status=pending&with_counts=true&limit=1")
    assert after["counts"]["pending"] == before["counts"]["pending"] - 2
    await expect(page.get_by_test_id("review-tab-pending")).to_have_text(f"待审核 {after['counts']['pending']}")
    await expect(page.get_by_test_id("review-tab-rejected")).to_have_text(f"被拒绝 {after['counts']['rejected']}")

    await page.get_by_test_id("review-tab-approved").click()
    await expect(page.get_by_test_id(f"review-status-{approved['id']}")).to_have_text("已签约")
    await page.get_by_test_id("review-tab-rejected").click()
    await expect(page.get_by_test_id(f"review-status-{rejected['id']}")).to_have_text("已拒绝")
    await expect(page.get_by_test_id("review-table")).to_contain_text("不在本团队服务范围")
    await settle(page)
    await shot(page, "console-review-rejected")


# -- unable to sign ------------------------------------------------------------------------------------------

async def test_supervisor_reviews_and_lifts_unable_requests(console, web_hub, shot) -> None:
    # doctor.wang files one from the resident list, another through the API
    first = await resident_with(web_hub, "unsigned", ours=False)
    second = await resident_with(web_hub, "unsigned", ours=False, skip=1)
    doctor = await console("doctor", "/signing/residents")
    await find_row(doctor, first, "unsigned")
    await doctor.get_by_test_id(f"resident-more-{first['id']}").click()
    await doctor.get_by_test_id(f"resident-unable-{first['id']}").click()
    await choose(doctor, "residents-unable-kind", "外迁")
    await fill(doctor, "residents-reason", "已迁往外省居住")
    await doctor.get_by_test_id("residents-reason-submit").click()
    await expect(doctor.get_by_test_id("residents-reason-submit")).to_be_hidden()
    await call(web_hub, "doctor", "POST", "/api/signing/unable-requests",
               {"resident_id": second["id"], "kind": "失联", "reason": "多次走访未见本人"})
    pending = await call(web_hub, "supervisor", "GET", "/api/signing/unable-requests?status=pending&limit=200")
    filed = {r["resident_id"]: r for r in pending["items"]}
    assert first["id"] in filed and second["id"] in filed
    approve, reject = filed[first["id"]], filed[second["id"]]

    page = await console("supervisor", "/signing/unable")
    await expect(page.get_by_test_id(f"unable-row-{approve['id']}")).to_be_visible()
    await expect(page.get_by_test_id("unable-table")).to_contain_text("雉城街道")
    await settle(page)
    await shot(page, "console-unable-pending")
    await page.get_by_test_id(f"unable-approve-{approve['id']}").click()
    await fill(page, "unable-text", "经核实属实")
    await page.get_by_test_id("unable-submit").click()
    await expect(page.get_by_test_id(f"unable-row-{approve['id']}")).to_have_count(0)
    await page.get_by_test_id(f"unable-reject-{reject['id']}").click()
    await page.get_by_test_id("unable-submit").click()  # no reason: refused on the page
    await expect(page.get_by_test_id("unable-error")).to_have_text("请填写驳回理由")
    await fill(page, "unable-text", "本人仍在村内居住")
    await page.get_by_test_id("unable-submit").click()
    await expect(page.get_by_test_id(f"unable-row-{reject['id']}")).to_have_count(0)
    assert (await call(web_hub, "doctor", "GET", f"/api/signing/residents/{first['id']}"))["status"] == "unable"
    assert (await call(web_hub, "doctor", "GET", f"/api/signing/residents/{second['id']}"))["status"] == "unsigned"

    await page.get_by_test_id("unable-tab-rejected").click()
    await expect(page.get_by_test_id(f"unable-row-{reject['id']}")).to_be_visible()
    await expect(page.get_by_test_id("unable-table")).to_contain_text("本人仍在村内居住")
    await page.get_by_test_id("unable-tab-approved").click()
    await page.get_by_test_id(f"unable-lift-{approve['id']}").click()
    await fill(page, "unable-text", "居民已迁回本村")
    await settle(page)
    await shot(page, "console-unable-lift")
    await page.get_by_test_id("unable-submit").click()
    await expect(page.get_by_test_id(f"unable-row-{approve['id']}")).to_have_count(0)
    await page.get_by_test_id("unable-tab-lifted").click()
    await expect(page.get_by_test_id(f"unable-row-{approve['id']}")).to_be_visible()
    await expect(page.get_by_test_id("unable-table")).to_contain_text("居民已迁回本村")
    await settle(page)
    await shot(page, "console-unable-lifted")
    lifted = await call(web_hub, "supervisor", "GET", "/api/signing/unable-requests?status=lifted&limit=200")
    assert [r["lift_reason"] for r in lifted["items"] if r["id"] == approve["id"]] == ["居民已迁回本村"]
    assert (await call(web_hub, "doctor", "GET", f"/api/signing/residents/{first['id']}"))["status"] == "unsigned"


# -- who sees what -------------------------------------------------------------------------------------------

PAGES = ("/signing/review", "/signing/unable", "/signing/residents")
SEES = {"doctor": {"/signing/review", "/signing/residents"}, "team_leader": {"/signing/review", "/signing/residents"},
        "assistant": {"/signing/residents"}, "admin": {"/signing/residents"},
        "supervisor": {"/signing/unable", "/signing/residents"},
        "sysadmin": {"/signing/unable", "/signing/residents"}, "resident": set()}


async def test_each_role_sees_only_its_pages(console, shot) -> None:
    for role, allowed in SEES.items():
        page = await console(role, "/")
        for path in PAGES:
            await expect(page.get_by_test_id(f"menu-{path}")).to_have_count(1 if path in allowed else 0)
        for path in sorted(set(PAGES) - allowed):
            await page.evaluate("(p) => { location.hash = '#' + p; }", path)
            await expect(page.get_by_test_id("forbidden")).to_contain_text("无权访问")
        if role == "resident":
            await shot(page, "console-residents-forbidden-resident")
        await page.context.close()


async def test_row_actions_follow_the_role(console, shot) -> None:
    # an assistant tags and edits but signs nothing; a supervisor only looks (and exports)
    assistant = await console("assistant", "/signing/residents")
    await expect(assistant.get_by_test_id("resident-row").first).to_be_visible()
    await expect(assistant.get_by_test_id("residents-bulk-tags")).to_be_visible()
    table = assistant.get_by_test_id("residents-table")
    for action in ("sign", "renew", "terminate", "refuse"):
        await expect(table.locator(f"[data-testid^='resident-{action}-']")).to_have_count(0)
    await expect(table.locator("[data-testid^='resident-more-']").first).to_be_visible()
    supervisor = await console("supervisor", "/signing/residents")
    await expect(supervisor.get_by_test_id("resident-row").first).to_be_visible()
    await expect(supervisor.get_by_test_id("residents-bulk-tags")).to_have_count(0)
    await expect(supervisor.get_by_test_id("residents-export")).to_be_visible()
    more = supervisor.get_by_test_id("residents-table").locator("[data-testid^='resident-more-']")
    await expect(more).to_have_count(0)
    await settle(supervisor)
    await shot(supervisor, "console-residents-supervisor")
