"""The signing plugin's review centre and resident management in the console (1440 px) against a real hub with
the demo county: doctor.wang approves and rejects applications and filters them by ID number and name; the
supervisor approves, rejects and lifts unable-to-sign requests; doctor.wang manages residents by village and status
class, searches, renews, terminates, records a refusal, tags in bulk and exports the list (a real xlsx). Roles that
may not use a page see no menu entry and get 无权访问. No console errors (``page_errors``); screenshots by ``shot``.
Every state a test changes is checked through the API afterwards."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from playwright.async_api import Page, expect

from tests.support import RunningHub, api
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


async def resident_with(web_hub: RunningHub, status: str, *, ours: bool = True, skip: int = 0) -> dict[str, Any]:
    """A resident of doctor.wang's scope in a status class: held by the doctor's team when ``ours``, else held by
    no team (no pending application either)."""
    team = demo_user(web_hub, "doctor")["team_id"]
    found = await call(web_hub, "doctor", "GET", f"/api/signing/residents?status={status}&limit=200")
    matching = [r for r in found["items"] if r["team_id"] == (team if ours else None)]
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
