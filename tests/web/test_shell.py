"""The two shells in a real Chromium against a hub with the demo data: login, the menu and tabs built from the
screen declarations by role, 无权访问 / 页面不存在, the example plugin's page, the live notices bell, and a
forged or missing session sent back to the login."""

from __future__ import annotations

from playwright.async_api import expect

from hub.demo import DEMO_PASSWORD
from tests.web.conftest import fill, session_for

WEB_HUB_SETTINGS = {"signing.demo_residents": 40}  # the shells need the demo's accounts, not its residents


async def resident_has(page, path: str) -> bool:
    """Whether the logged-in user's H5 screens include ``path`` (as the shell got them)."""
    return await page.evaluate("""async (path) => {
      const s = JSON.parse(sessionStorage.getItem('jtyh.session'));
      const r = await fetch('/api/screens?app=h5', { headers: { Authorization: `Bearer ${s.token}` } });
      return (await r.json()).pages.some((p) => p.path === path);
    }""", path)


async def test_console_login_through_the_form(login_page, shot, page_errors) -> None:
    page_errors.allow("status of 401")  # the wrong password's answer
    page = await login_page("console")
    await shot(page, "console-login")
    await fill(page, "login-username", "doctor.wang")
    await fill(page, "login-password", "wrong-password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_be_visible()
    await fill(page, "login-password", DEMO_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("console-shell")).to_be_visible()
    await expect(page.get_by_test_id("user-name")).to_have_text("王医生")
    await expect(page.get_by_test_id("user-role")).to_have_text("医生")
    await expect(page.get_by_test_id("page-home")).to_contain_text("欢迎，王医生")
    stored = await page.evaluate("JSON.parse(sessionStorage.getItem('jtyh.session'))")
    assert stored["user"]["name"] == "王医生" and stored["token"]
    await shot(page, "console-home-doctor")
    # a reload keeps the session; logout ends it
    await page.reload()
    await expect(page.get_by_test_id("console-shell")).to_be_visible()
    await page.get_by_test_id("logout").click()
    await expect(page.get_by_test_id("login-submit")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('jtyh.session')") is None


async def test_console_login_error_is_shown_in_chinese(login_page, page_errors) -> None:
    page = await login_page("console")
    page_errors.allow("status of 401")  # the refused login's response
    await fill(page, "login-username", "nobody")
    await fill(page, "login-password", "whatever1")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_be_visible()
    assert await page.get_by_test_id("login-error").inner_text()


async def test_menu_is_built_from_the_declarations_by_role(console, shot) -> None:
    doctor = await console("doctor")
    await expect(doctor.get_by_test_id("menu-group-示例")).to_be_visible()
    await expect(doctor.get_by_test_id("menu-/greeter/send")).to_have_count(1)
    await expect(doctor.get_by_test_id("menu-/me/password")).to_have_count(1)
    await expect(doctor.get_by_test_id("menu-/webtest/entry")).to_have_count(1)
    await expect(doctor.get_by_test_id("menu-group-测试监管")).to_have_count(0)
    await shot(doctor, "console-menu-doctor")
    supervisor = await console("supervisor")
    await expect(supervisor.get_by_test_id("user-role")).to_have_text("监管人员")
    await expect(supervisor.get_by_test_id("menu-/greeter/send")).to_have_count(0)
    await expect(supervisor.get_by_test_id("menu-/me/password")).to_have_count(1)
    await expect(supervisor.get_by_test_id("menu-/webtest/overview")).to_have_count(1)
    await expect(supervisor.get_by_test_id("menu-/webtest/entry")).to_have_count(0)  # no signing entry
    await supervisor.get_by_test_id("menu-/webtest/overview").click()
    await expect(supervisor.get_by_test_id("webtest-page")).to_have_text("/webtest/overview 县卫健局 周监督")
    await shot(supervisor, "console-menu-supervisor")


async def test_scope_is_shown_in_the_header(console, web_hub) -> None:
    user = web_hub.users["doctor.wang"]
    page = await console("doctor")
    me_scope = await page.evaluate("JSON.parse(sessionStorage.getItem('jtyh.session')).user.scope")
    assert me_scope["region"] == user["region"]
    expected = [me_scope[k] for k in ("region_name", "institution_name", "team_name") if me_scope[k]]
    assert expected, "the demo doctor has a named scope"
    for part in expected:
        await expect(page.get_by_test_id("user-scope")).to_contain_text(part)


async def test_forbidden_and_unknown_routes(console, h5, shot) -> None:
    supervisor = await console("supervisor", "/greeter/send")
    await expect(supervisor.get_by_test_id("forbidden")).to_contain_text("无权访问")
    await expect(supervisor.get_by_test_id("page-greet")).to_have_count(0)
    await shot(supervisor, "console-forbidden")
    await supervisor.evaluate("location.hash = '#/no/such/page'")
    await expect(supervisor.get_by_test_id("not-found")).to_contain_text("页面不存在")
    resident = await h5("resident", "/webtest/review")
    await expect(resident.get_by_test_id("forbidden")).to_contain_text("无权访问")
    await resident.evaluate("location.hash = '#/nowhere'")
    await expect(resident.get_by_test_id("not-found")).to_contain_text("页面不存在")


async def test_example_plugin_page_and_the_live_bell(console, shot) -> None:
    page = await console("doctor")
    await expect(page.get_by_test_id("bell-badge")).to_be_attached()
    await page.get_by_test_id("menu-/greeter/send").click()
    await expect(page.get_by_test_id("page-greet")).to_be_visible()
    await expect(page.get_by_test_id("page-title")).to_have_text("问候")
    assert "#/greeter/send" in page.url
    await fill(page, "greet-text", "早上好，今天记得量血压")
    await page.get_by_test_id("greet-send").click()
    await expect(page.get_by_test_id("greet-sent")).to_contain_text("早上好，今天记得量血压")
    # sent to oneself: the notice arrives over the socket while the page is open
    await expect(page.locator("[data-testid=bell-badge] sup")).to_have_text("1")
    await page.get_by_test_id("bell").click()
    await expect(page.get_by_test_id("notice").first).to_contain_text("早上好，今天记得量血压")
    await shot(page, "console-greet-bell")


async def test_a_notice_with_a_console_link_navigates(console, web_hub) -> None:
    page = await console("doctor")
    await expect(page.get_by_test_id("page-home")).to_be_visible()
    user = web_hub.users["doctor.wang"]
    await web_hub.hub.notices.notify([user["_id"]], kind="system", title="请修改初始密码", body="点此前往",
                                     data={"links": {"console": "/me/password"}})
    await page.get_by_test_id("bell").click()
    await page.get_by_test_id("notice").filter(has_text="请修改初始密码").click()
    await expect(page.get_by_test_id("page-password")).to_be_visible()
    assert page.url.endswith("#/me/password")


async def test_forged_or_absent_session_goes_to_login(web_context, web_hub, page_errors) -> None:
    page_errors.allow("status of 401")
    _, page = await web_context("console")
    await page.goto(f"{web_hub.url}/console#/greeter/send")
    await expect(page.get_by_test_id("login-submit")).to_be_visible()
    forged = await session_for(web_hub, web_hub.users["doctor.wang"])
    forged["token"] = forged["token"][:-4] + ("AAAA" if not forged["token"].endswith("AAAA") else "BBBB")
    for app in ("console", "h5"):
        _, page = await web_context(app, forged)
        await page.goto(f"{web_hub.url}/{app}")
        await expect(page.get_by_test_id("login-submit")).to_be_visible()
        assert await page.evaluate("sessionStorage.getItem('jtyh.session')") is None


async def test_h5_login_and_tabs_by_role(login_page, h5, shot) -> None:
    page = await login_page("h5")
    await fill(page, "login-username", "13800000001")  # a resident logs in with the phone number
    await fill(page, "login-password", DEMO_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("h5-shell")).to_be_visible()
    tabs = page.get_by_test_id("tabbar")
    for name in ("tab-home", "tab-consult", "tab-me"):
        await expect(tabs.get_by_test_id(name)).to_be_visible()
    await expect(tabs.get_by_test_id("tab-residents")).to_have_count(0)
    # 家庭 is a tab when some plugin declares /family for residents (the signing plugin's H5 pages)
    family = await resident_has(page, "/family")
    await expect(tabs.get_by_test_id("tab-family")).to_have_count(1 if family else 0)
    await shot(page, "h5-resident-home")
    await tabs.get_by_test_id("tab-me").click()
    await expect(page.get_by_test_id("page-me")).to_contain_text("张建国")
    await shot(page, "h5-resident-me")
    doctor = await h5("doctor")
    dtabs = doctor.get_by_test_id("tabbar")
    await expect(dtabs.get_by_test_id("tab-family")).to_have_count(0)
    await expect(dtabs.get_by_test_id("tab-residents")).to_have_count(1 if await resident_has(doctor, "/residents")
                                                                     else 0)
    await shot(doctor, "h5-doctor-home")


async def test_h5_consult_tab_opens_the_chat_page_with_the_same_session(h5) -> None:
    page = await h5("resident")
    await page.get_by_test_id("tab-consult").click()
    await page.wait_for_url("**/")
    await expect(page.get_by_test_id("view-list")).to_be_visible()  # the chat page, already logged in


async def test_h5_notices_on_me_are_live(h5, web_hub, shot) -> None:
    page = await h5("resident", "/me")
    await expect(page.get_by_test_id("page-me")).to_be_visible()
    user = web_hub.users["resident.zhang"]
    await web_hub.hub.notices.notify([user["_id"]], kind="system", title="体检提醒", body="本周六上午免费体检")
    await expect(page.get_by_test_id("notice").filter(has_text="体检提醒")).to_be_visible()
    await shot(page, "h5-me-notice")
