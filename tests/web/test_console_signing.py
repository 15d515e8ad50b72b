"""The signing plugin's review centre and resident management in the console (1440 px) against a real hub with
the demo county: doctor.wang approves and rejects applications and filters them by ID number and name; the
supervisor approves, rejects and lifts unable-to-sign requests; doctor.wang manages residents by village and status
class, searches, renews, terminates, records a refusal, tags in bulk and exports the list (a real xlsx). Roles that
may not use a page see no menu entry and get 无权访问. No console errors (``page_errors``); screenshots by ``shot``.
Every state a test changes is checked through the API afterwards."""

from __future__ import annotations

from typing import Any

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
