"""The signing plugin's H5 pages at 375×812, each task end to end as its role against a real hub with the demo
data: a resident adds a family member (a wrong check digit is refused as it is typed), applies for them, sees
待审核, cancels, applies again; doctor.wang approves on the H5 review page; the resident sees 已签约 and has the
notice linking to /signing/apply. doctor.wang's home figures are the API's progress answer. No console errors.

The pages run in the hub's H5 shell (/h5), logged in by minted tokens."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

from hub.demo import seed_demo
from hub.roster.idcard import make_id_number
from tests.support import api, token_for
from tests.web.h5_helpers import go, launch, open_h5, shoot


@pytest.fixture
async def demo(make_hub: Any) -> Any:
    running = await make_hub(plugins={"signing": True, "example_greeter": False}, plugin_modules=[],
                             **{"signing.demo_residents": 200})
    assert await seed_demo(running.hub) is True
    return running


async def as_user(running: Any, username: str) -> tuple[str, dict[str, Any]]:
    user = await running.hub.db.users.find_one({"username": username})
    return token_for(running, user), {"id": user["_id"], "role": user["role"], "name": user["name"]}


async def test_resident_applies_for_a_family_member_and_doctor_approves(demo: Any) -> None:
    url = demo.url
    child_number = make_id_number("330522", date(2003, 3, 14), 457)
    wrong_digit = child_number[:17] + ("0" if child_number[17] != "0" else "1")
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        token, user = await as_user(demo, "resident.liu")
        page = await open_h5(browser, url, token, user, errors)

        # 家庭: add a member; the wrong check digit shows as it is typed, a good number clears it
        await go(page, url, "/family")
        await expect(page.get_by_test_id("family-member")).to_have_count(1)
        await page.get_by_test_id("family-add").click()
        form = page.get_by_test_id("family-form")
        await form.get_by_test_id("member-name").locator("input").fill("刘小华")
        number = form.get_by_test_id("member-id-number").locator("input")
        await number.fill(wrong_digit)
        await expect(form.locator(".van-field__error-message")).to_have_text("身份证号校验位不正确")
        await expect(form.get_by_test_id("member-save")).to_be_disabled()
        await shoot(page, "family-bad-id")
        await number.fill(child_number)
        await expect(form.locator(".van-field__error-message")).to_have_count(0)
        await form.get_by_text("子女", exact=True).click()
        await expect(form.get_by_test_id("member-village").locator("input")).to_have_value("长城村")
        await form.get_by_test_id("member-save").click()
        member = page.get_by_test_id("family-member").filter(has_text="刘小华")
        await expect(member.get_by_test_id("family-member-state")).to_have_text("未签约")
        await expect(form).to_be_hidden()
        await shoot(page, "family-added")

        # 移动签约: institution → team → doctor (profile shown), apply, see 待审核, cancel, apply again
        async def choose(what: str, text: str) -> None:
            await page.get_by_test_id(f"apply-{what}").click()
            await page.get_by_test_id(f"choose-{what}").get_by_test_id("choice-option").filter(has_text=text).click()

        async def apply() -> None:
            await choose("institution", "雉城街道")
            await choose("team", "一团队")
            await choose("doctor", "王医生")
            await expect(page.get_by_test_id("apply-doctor-profile")).to_contain_text("雉城街道家庭医生一团队")
            await page.get_by_test_id("apply-submit").click()

        await member.get_by_test_id("family-apply").click()
        await expect(page.get_by_test_id("apply-member").locator("input")).to_have_value("刘小华（子女）")
        await apply()
        application = page.get_by_test_id("application").filter(has_text="刘小华")
        await expect(application.get_by_test_id("application-state")).to_have_text("待审核")
        await shoot(page, "apply-pending")
        await application.get_by_test_id("application-cancel").click()
        await page.locator(".van-dialog__confirm").click()
        await expect(application.get_by_test_id("application-state")).to_have_text("已取消")
        await choose("member", "刘小华")
        await apply()
        await expect(application.get_by_test_id("application-state")).to_have_text(["待审核", "已取消"])

        # doctor.wang approves it on the H5 review page, changing the term to 2 years
        token, doctor = await as_user(demo, "doctor.wang")
        doctor_page = await open_h5(browser, url, token, doctor, errors)
        await go(doctor_page, url, "/doctor/review")
        item = doctor_page.get_by_test_id("review-item").filter(has_text="刘小华")
        await item.get_by_test_id("review-approve").click()
        dialog = doctor_page.get_by_test_id("approve-dialog")
        await dialog.locator(".van-stepper__plus").click()
        await expect(dialog.locator("input")).to_have_value("2")
        await shoot(doctor_page, "review-approve")
        await dialog.locator(".van-dialog__confirm").click()
        await expect(item).to_have_count(0)
        await doctor_page.get_by_test_id("review-tabs").get_by_text("已通过").click()
        await expect(doctor_page.get_by_test_id("review-item").filter(has_text="刘小华")).to_contain_text("2 年")

        # the resident sees 已签约, and has the decision's notice linking to the application page
        await page.reload()
        await expect(application.first.get_by_test_id("application-state")).to_have_text("已签约")
        await shoot(page, "apply-signed")
        # the decision's notice is in 我的; tapping it opens the application page
        await page.get_by_test_id("tab-me").click()
        notice = page.get_by_test_id("notice").filter(has_text="签约申请已通过")
        await expect(notice).to_contain_text("刘小华")
        await shoot(page, "me-notice")
        await notice.click()
        await expect(page.get_by_test_id("apply-page")).to_be_visible()
        assert page.url.endswith("#/signing/apply")
        await go(page, url, "/family")
        await expect(member.get_by_test_id("family-member-state")).to_have_text("已签约")
        await browser.close()
    assert errors == []


async def test_doctor_home_figures_are_the_progress_answer(demo: Any) -> None:
    token, doctor = await as_user(demo, "doctor.wang")
    status, progress = await api(demo.url, "GET", "/api/signing/signings/progress", token)
    assert status == 200
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await open_h5(browser, demo.url, token, doctor, errors)
        await expect(page.get_by_test_id("doctor-home")).to_be_visible()
        for state, count in progress["counts"].items():
            if state in ("cancelled",):
                continue
            await expect(page.get_by_test_id(f"progress-count-{state}")).to_have_text(str(count))
        await expect(page.get_by_test_id("todo-review")).to_contain_text(str(progress["counts"]["pending"]))
        await shoot(page, "doctor-home")
        await browser.close()
    assert errors == []


@pytest.mark.parametrize("username, paths", [
    ("resident.zhang", {"/home": "home-doctor", "/family": "family-member", "/signing/apply": "application",
                        "/doctor/mine": "my-doctor"}),
    ("doctor.wang", {"/doctor/sign": "sign-submit", "/doctor/pick": "pick-village", "/doctor/signings": "signing-item",
                     "/residents": "resident-item", "/doctor/review": "review-item"}),
])
async def test_every_page_renders_for_its_role(demo: Any, username: str, paths: dict[str, str]) -> None:
    """Each page shows its content (``paths``: the test id that shows it loaded) with no console error."""
    token, user = await as_user(demo, username)
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await open_h5(browser, demo.url, token, user, errors)
        for path, loaded in paths.items():
            await go(page, demo.url, path)
            await expect(page.get_by_test_id(loaded).first).to_be_visible()
            await shoot(page, f"{username}{path.replace('/', '-')}")
        await browser.close()
    assert errors == []


async def test_doctor_signs_by_entry_and_pick_rejects_terminates_and_tags(demo: Any) -> None:
    token, doctor = await as_user(demo, "doctor.wang")
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await open_h5(browser, demo.url, token, doctor, errors)

        # 签约审核: reject an application with a reason
        await go(page, demo.url, "/doctor/review")
        item = page.get_by_test_id("review-item").first
        name = await item.locator(".sg-card-title").inner_text()
        await item.get_by_test_id("review-reject").click()
        dialog = page.get_by_test_id("reject-dialog")
        await dialog.get_by_test_id("reject-reason").locator("textarea").fill("不在本团队服务范围")
        await dialog.locator(".van-dialog__confirm").click()
        await page.get_by_test_id("review-tabs").get_by_text("被拒绝").click()
        rejected = page.get_by_test_id("review-item").filter(has_text=name).first
        await expect(rejected).to_contain_text("不在本团队服务范围")

        # 录入签约: a new resident typed in (the ID number checked as typed), signed on the spot
        await go(page, demo.url, "/doctor/sign")
        await page.get_by_test_id("sign-name").locator("input").fill("录入居民")
        number = make_id_number("330522", date(1971, 5, 12), 733)
        await page.get_by_test_id("sign-id-number").locator("input").fill(number[:10] + "A")
        await expect(page.locator(".van-field__error-message")).to_have_text("身份证号只能由数字和末位 X 组成")
        await page.get_by_test_id("sign-id-number").locator("input").fill(number)
        await expect(page.locator(".van-field__error-message")).to_have_count(0)
        await page.get_by_test_id("sign-village").click()
        await page.locator(".van-cascader__option", has_text="城东村").click()
        await page.get_by_test_id("sign-submit").click()
        await expect(page.get_by_test_id("sign-done")).to_contain_text("录入居民")
        await shoot(page, "doctor-entry")
        signed = await demo.hub.db.residents.find_one({"id_number": number})
        assert signed["status"] == "signed"

        # 花名册签约: tick an unsigned resident of a village and sign
        await go(page, demo.url, "/doctor/pick")
        await page.get_by_test_id("pick-village").click()
        await page.locator(".van-cascader__option", has_text="城西村").click()
        row = page.get_by_test_id("pick-resident").filter(has_text="未签约").first
        picked = await row.locator(".van-cell__title span").first.inner_text()
        await row.click()
        await expect(page.get_by_test_id("pick-submit")).to_contain_text("1 人")
        await shoot(page, "doctor-pick")
        await page.get_by_test_id("pick-submit").click()
        await expect(page.get_by_test_id("pick-resident").filter(has_text=picked).first).to_contain_text("已签约")

        # 签约管理: terminate the entry's signing with a reason
        await go(page, demo.url, "/doctor/signings")
        await page.get_by_test_id("signings-search").locator("input").fill("录入居民")
        await page.get_by_test_id("signings-search").locator("input").press("Enter")
        card = page.get_by_test_id("signing-item").filter(has_text="录入居民")
        await expect(card).to_have_count(1)
        await card.get_by_test_id("signing-terminate").click()
        await page.get_by_test_id("terminate-reason").locator("textarea").fill("居民迁出")
        await page.get_by_test_id("terminate-dialog").locator(".van-dialog__confirm").click()
        await expect(card).to_have_count(0)
        assert (await demo.hub.db.residents.find_one({"id_number": number}))["status"] == "unsigned"

        # 居民: the 已签约 class, a resident's tags set
        await go(page, demo.url, "/residents")
        await page.get_by_test_id("residents-tabs").get_by_text("已签约").click()
        first = page.get_by_test_id("resident-item").first
        await expect(first.get_by_test_id("resident-status")).to_have_text("已签约")
        await first.click()
        tag = page.get_by_test_id("resident-tag").filter(has_text="脱贫人口")
        await tag.click()
        await shoot(page, "doctor-resident-tags")
        await page.get_by_test_id("resident-tags-save").click()
        await expect(page.get_by_test_id("resident-detail")).to_be_hidden()
        await browser.close()
    assert errors == []
