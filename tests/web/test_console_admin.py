"""The console's 管理中心 and accounts in Debian's Chromium at 1440 px against a hub with the demo data, each task
driven end to end by the role that does it: 敏感词 (list, filter, add, edit, enable / disable, text and xlsx import
with the row report, and the screening of a real message changing), 告警中心 (a new alert appears live, detail,
resolve with a note, the consultation it came from, filters), 操作审计 (by user, action, target, time; region
scoped), 账号管理 for a sysadmin and an institution admin (create, reset password, disable; each audited), 标签
(create, rename, delete), and what a doctor may not see. No console errors anywhere; screenshots via ``shot``."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from playwright.async_api import Page, expect

from tests.support import Client, RunningHub, api, wait_for
from tests.web.conftest import demo_user, fill, session_for

WEB_HUB_SETTINGS = {"signing.demo_residents": 40}  # these pages need the demo's accounts and words, few residents


async def token(web_hub: RunningHub, who: str) -> str:
    return (await session_for(web_hub, demo_user(web_hub, who)))["token"]


async def choose(page: Page, testid: str, option: str) -> None:
    """Pick ``option`` in the Element Plus select carrying ``testid``."""
    await page.get_by_test_id(testid).click()
    await page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


async def settled(page: Page) -> None:
    """Element Plus dialogs, drawers and messages animate for 0.3 s: before a screenshot, wait until no finite
    animation runs (a loading spinner's endless one does not count)."""
    await page.wait_for_function("""() => !document.getAnimations().some(
        (a) => a.playState === 'running' && a.effect && a.effect.getTiming().iterations !== Infinity)""")


async def engine_current(web_hub: RunningHub, supervisor_token: str) -> None:
    """Wait until this hub's screening engine has every word change (a change is applied in the background)."""
    async def current() -> bool:
        _, status = await api(web_hub.url, "GET", "/api/sensitive-words/status", supervisor_token)
        return status["version"] >= status["latest"]
    await wait_for(current, "the screening engine to take the change")


async def resident_chat(web_hub: RunningHub) -> tuple[str, Client]:
    """An open consultation of resident.zhang with doctor.wang and the resident's live socket."""
    resident = demo_user(web_hub, "resident.zhang")
    doctor = demo_user(web_hub, "doctor.wang")
    resident_token = await token(web_hub, "resident.zhang")
    status, conv = await api(web_hub.url, "POST", "/api/consultations", resident_token, {"doctor_id": doctor["_id"]})
    if status >= 400:  # not signed with that doctor's team in this demo: the test plugin's allow-list
        await web_hub.hub.db.users.update_one({"_id": resident["_id"]}, {"$set": {"test_doctors": [doctor["_id"]]}})
        status, conv = await api(web_hub.url, "POST", "/api/consultations", resident_token,
                                 {"doctor_id": doctor["_id"]})
    assert status in (200, 201), conv
    return conv["id"], await Client.connect(web_hub.ws_url, resident_token)


async def test_sensitive_words_end_to_end(console, web_hub, shot, tmp_path, page_errors) -> None:
    page_errors.allow("status of 400")  # the refused imports below, on purpose
    sup = await token(web_hub, "supervisor")
    conv, resident = await resident_chat(web_hub)
    page = await console("supervisor", "/supervision/words")
    await expect(page.get_by_test_id("page-words")).to_be_visible()
    await expect(page.get_by_test_id("word-row-法轮功")).to_be_visible()
    await expect(page.get_by_test_id("words-status")).to_contain_text("生效词数")
    await shot(page, "console-admin-words")
    # filter
    await fill(page, "words-filter-q", "代开")
    await page.get_by_test_id("words-search").click()
    await expect(page.get_by_test_id("word-row-法轮功")).to_have_count(0)
    await expect(page.get_by_test_id("word-row-代开发票")).to_be_visible()
    await fill(page, "words-filter-q", "")
    await choose(page, "words-filter-action", "白名单")
    await page.get_by_test_id("words-search").click()
    await expect(page.get_by_test_id("word-row-代开发票")).to_have_count(0)
    await expect(page.get_by_test_id("word-row-大法官")).to_be_visible()
    await choose(page, "words-filter-action", "全部")
    await page.get_by_test_id("words-search").click()
    await expect(page.get_by_test_id("word-row-法轮功")).to_be_visible()

    # add on screen → a message with it is blocked
    assert (await resident.say(conv, "想试试网络赌博"))["type"] == "ack"
    await page.get_by_test_id("words-add").click()
    await fill(page, "word-input", "网络赌博")
    await fill(page, "word-category", "赌博")
    await page.get_by_test_id("word-save").click()
    await expect(page.get_by_test_id("word-row-网络赌博")).to_be_visible()
    _, listed = await api(web_hub.url, "GET", "/api/sensitive-words?q=网络赌博", sup)
    [word] = listed["items"]
    assert (word["action"], word["category"], word["enabled"]) == ("block", "赌博", True)
    await engine_current(web_hub, sup)
    refused = await resident.say(conv, "想试试网络赌博")
    assert refused["type"] == "error" and refused["code"] == "content_blocked", refused
    await settled(page)
    await shot(page, "console-admin-words-added")

    # edit to 预警 → the message passes and raises an alert
    await page.get_by_test_id("word-edit-网络赌博").click()
    await expect(page.get_by_test_id("word-input")).to_be_disabled()
    await page.get_by_test_id("word-action-alert").click()
    await page.get_by_test_id("word-save").click()
    await expect(page.locator("tr", has=page.get_by_test_id("word-row-网络赌博"))).to_contain_text("预警")
    await engine_current(web_hub, sup)
    passed = await resident.say(conv, "网络赌博怎么玩")
    assert passed["type"] == "ack", passed
    _, alerts = await api(web_hub.url, "GET", "/api/alerts?word=网络赌博", sup)
    assert [(a["text"], a["action"]) for a in alerts["items"]] == [
        ("网络赌博怎么玩", "alert"), ("想试试网络赌博", "block")]  # the block raised one too

    # disable → screened no more; enable again
    await page.get_by_test_id("word-enabled-网络赌博").click()
    await wait_for(lambda: _enabled(web_hub, sup, word["id"], False), "the word to be disabled")
    await engine_current(web_hub, sup)
    ack = await resident.say(conv, "网络赌博第二次")
    assert ack["type"] == "ack" and ack.get("screen", {}).get("action", "pass") == "pass", ack
    await page.get_by_test_id("word-enabled-网络赌博").click()
    await wait_for(lambda: _enabled(web_hub, sup, word["id"], True), "the word to be enabled again")

    # text import: a bad line refuses the whole text with the row report; a good text imports
    await page.get_by_test_id("words-import").click()
    await fill(page, "import-text", "兼职刷单,诈骗,block\n" + "长" * 60 + "\n代写论文,,alert")
    await page.get_by_test_id("import-submit").click()
    report = page.get_by_test_id("import-report")
    await expect(report).to_contain_text("1 行有错误")
    await expect(report.locator("tbody tr")).to_have_count(1)
    await expect(report.locator("tbody tr").first).to_contain_text("2")
    await settled(page)
    await shot(page, "console-admin-words-import-report")
    _, none = await api(web_hub.url, "GET", "/api/sensitive-words?q=兼职刷单", sup)
    assert none["items"] == []
    await fill(page, "import-text", "兼职刷单,诈骗,block\n代写论文,,alert")
    await page.get_by_test_id("import-submit").click()
    await expect(page.get_by_test_id("import-summary")).to_contain_text("新增 2")
    await expect(page.get_by_test_id("import-report")).to_have_count(0)

    # xlsx import: a formula row and a too-long word reported by row; then a good sheet
    bad = tmp_path / "bad.xlsx"
    _workbook([("词", "分类", "处理方式"), ("裸聊", "色情", "block"), ("=SUM(A1:A2)", "", ""), ("长" * 60, "", "")],
              bad)
    await page.get_by_test_id("import-mode-file").click()
    await page.get_by_test_id("import-file").set_input_files(str(bad))
    await page.get_by_test_id("import-submit").click()
    await expect(report).to_contain_text("2 行有错误")
    await expect(report.locator("tbody tr")).to_have_count(2)
    await expect(report.locator("tbody tr").nth(0)).to_contain_text("3")
    await expect(report.locator("tbody tr").nth(1)).to_contain_text("4")
    await settled(page)
    await shot(page, "console-admin-words-xlsx-report")
    good = tmp_path / "good.xlsx"
    _workbook([("词", "分类", "处理方式"), ("裸聊", "色情", "block"), ("私下转账", "诈骗", "alert")], good)
    await page.get_by_test_id("import-file").set_input_files(str(good))
    await page.get_by_test_id("import-submit").click()
    await expect(page.get_by_test_id("import-summary")).to_contain_text("新增 2")
    await page.get_by_test_id("import-close").click()
    await expect(page.get_by_test_id("word-row-裸聊")).to_be_visible()
    await engine_current(web_hub, sup)
    blocked = await resident.say(conv, "要不要裸聊")
    assert blocked["type"] == "error" and blocked["code"] == "content_blocked", blocked
    _, audit = await api(web_hub.url, "GET", "/api/audit?action=sensitive_word.import", sup)
    assert len(audit["items"]) == 2
    await settled(page)
    await shot(page, "console-admin-words-imported")
    # delete
    await page.get_by_test_id("word-delete-私下转账").click()
    await page.locator(".el-popconfirm:visible").get_by_role("button", name="删除").click()
    await expect(page.get_by_test_id("word-row-私下转账")).to_have_count(0)
    _, gone = await api(web_hub.url, "GET", "/api/sensitive-words?q=私下转账", sup)
    assert gone["items"] == []


async def _enabled(web_hub: RunningHub, sup: str, word_id: str, enabled: bool) -> bool:
    _, word = await api(web_hub.url, "GET", f"/api/sensitive-words/{word_id}", sup)
    return word["enabled"] is enabled


def _workbook(rows: list[tuple[str, str, str]], path: Any) -> None:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())


async def test_alert_centre_live_detail_resolve_and_filters(console, web_hub, shot) -> None:
    sup = await token(web_hub, "supervisor")
    conv, resident = await resident_chat(web_hub)
    page = await console("supervisor", "/supervision/alerts")
    await expect(page.get_by_test_id("page-alerts")).to_be_visible()
    await expect(page.get_by_test_id("alerts-live")).to_contain_text("实时接收中")
    table = page.get_by_test_id("alerts-table")
    await resident.say(conv, "医生您好，最近血压有点高")
    ack = await resident.say(conv, "能帮我代开发票吗")
    assert ack["type"] == "ack", ack
    # live: the alert appears without a reload
    row = table.locator("tr", has_text="能帮我代开发票吗")
    await expect(row).to_be_visible()
    await expect(page.get_by_test_id("alerts-fresh")).to_contain_text("新到 1 条")
    await shot(page, "console-admin-alerts-live")
    _, found = await api(web_hub.url, "GET", "/api/alerts?word=代开发票", sup)
    alert = next(a for a in found["items"] if a["text"] == "能帮我代开发票吗")

    # the detail with the consultation it came from
    await page.get_by_test_id(f"alert-open-{alert['id']}").click()
    drawer = page.get_by_test_id("alert-detail")
    await expect(drawer.get_by_test_id("alert-detail-text")).to_have_text("能帮我代开发票吗")
    context = drawer.get_by_test_id("alert-context")
    await expect(context).to_contain_text("张建国")
    await expect(context).to_contain_text("王医生")
    await expect(context).to_contain_text("最近血压有点高")
    await expect(drawer.get_by_test_id(f"alert-context-{ack['seq']}")).to_have_class("ctx-msg hit")
    await drawer.get_by_test_id("alert-chat-link").click()
    await expect(context).to_be_in_viewport()
    await settled(page)
    await shot(page, "console-admin-alert-detail")

    # resolve with a note
    await drawer.get_by_test_id("alert-detail-resolve").click()
    await fill(page, "alert-note", "已电话提醒居民，不属于医疗服务范围")
    await page.get_by_test_id("alert-resolve-submit").click()
    await expect(drawer.get_by_test_id("alert-detail-status")).to_have_text("已处理")
    await expect(drawer.get_by_test_id("alert-detail-note")).to_have_text("已电话提醒居民，不属于医疗服务范围")
    _, stored = await api(web_hub.url, "GET", f"/api/alerts/{alert['id']}", sup)
    assert stored["status"] == "resolved" and stored["note"] == "已电话提醒居民，不属于医疗服务范围"
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id(f"alert-open-{alert['id']}")).to_have_count(0)  # left the 待处理 list

    # filters: status, word, category, time
    await resident.say(conv, "大法好")  # 大法 (政治, alert)
    await expect(table.locator("tr", has_text="大法好")).to_be_visible()
    await choose(page, "alerts-filter-status", "已处理")
    await page.get_by_test_id("alerts-search").click()
    await expect(page.get_by_test_id(f"alert-status-{alert['id']}")).to_have_text("已处理")
    await expect(table.locator("tr", has_text="大法好")).to_have_count(0)
    await choose(page, "alerts-filter-status", "全部")
    await fill(page, "alerts-filter-word", "大法")
    await page.get_by_test_id("alerts-search").click()
    await expect(table.locator("tr", has_text="大法好")).to_be_visible()
    await expect(table.locator("tr", has_text="能帮我代开发票吗")).to_have_count(0)
    await fill(page, "alerts-filter-word", "")
    await fill(page, "alerts-filter-category", "广告")
    await page.get_by_test_id("alerts-search").click()
    await expect(table.locator("tr", has_text="能帮我代开发票吗")).to_be_visible()
    await expect(table.locator("tr", has_text="大法好")).to_have_count(0)
    await fill(page, "alerts-filter-category", "")
    await set_range(page, "alerts-filter-time", "2020-01-01 00:00:00", "2020-12-31 23:59:59")
    await page.get_by_test_id("alerts-search").click()
    await expect(page.get_by_test_id("alerts-table")).to_contain_text("暂无预警")
    await settled(page)
    await shot(page, "console-admin-alerts-empty")
    await set_range(page, "alerts-filter-time", "2020-01-01 00:00:00", "2099-12-31 23:59:59")
    await page.get_by_test_id("alerts-search").click()
    await expect(table.locator("tr", has_text="大法好")).to_be_visible()


async def test_alert_bell_link_opens_the_alert(console, web_hub) -> None:
    conv, resident = await resident_chat(web_hub)
    page = await console("supervisor")
    await expect(page.get_by_test_id("page-home")).to_be_visible()
    await resident.say(conv, "代开发票多少钱")
    await expect(page.locator("[data-testid=bell-badge] sup")).not_to_have_text("0")
    await page.get_by_test_id("bell").click()
    await page.get_by_test_id("notice").first.click()
    await expect(page.get_by_test_id("alert-detail-text")).to_have_text("代开发票多少钱")


async def test_a_form_field_alert_names_the_record_it_came_from(console, web_hub, shot) -> None:
    doctor = await token(web_hub, "doctor")
    status, _ = await api(web_hub.url, "POST", "/api/greeter/greetings", doctor,
                          {"text": "可以代开发票", "to": demo_user(web_hub, "resident.zhang")["_id"]})
    assert status == 201
    _, found = await api(web_hub.url, "GET", "/api/alerts?word=代开发票", await token(web_hub, "supervisor"))
    alert = next(a for a in found["items"] if a["text"] == "可以代开发票")
    page = await console("supervisor", f"/supervision/alerts?id={alert['id']}")
    drawer = page.get_by_test_id("alert-detail")
    await expect(drawer.get_by_test_id("alert-detail-text")).to_have_text("可以代开发票")
    await expect(drawer.get_by_test_id("alert-form-source")).to_contain_text("greeting 的 text 字段")
    await expect(drawer).to_contain_text("/api/greeter/greetings")
    await expect(drawer.get_by_test_id("alert-context")).to_have_count(0)
    await expect(drawer).to_contain_text("雉城街道")  # the region by name
    await settled(page)
    await shot(page, "console-admin-alert-form")


async def set_range(page: Page, testid: str, start: str, end: str) -> None:
    """Type a range into an Element Plus datetimerange picker carrying ``testid``."""
    editor = page.get_by_test_id(testid)
    inputs = editor.locator("input.el-range-input")
    if await inputs.nth(0).input_value():  # a range is set: clear it first (typing over one is not taken)
        await editor.hover()
        await editor.locator(".el-range__close-icon").click()
        await expect(inputs.nth(0)).to_have_value("")
    await inputs.nth(0).fill(start)
    await inputs.nth(0).press("Enter")
    await inputs.nth(1).fill(end)
    await inputs.nth(1).press("Enter")
    await page.keyboard.press("Escape")


async def test_audit_by_user_action_target_time_and_region(console, web_hub, shot) -> None:
    sup = await token(web_hub, "supervisor")
    other = await token(web_hub, "supervisor.other")
    _, mine = await api(web_hub.url, "POST", "/api/sensitive-words", sup, {"word": "审计本县词", "action": "mask"})
    _, theirs = await api(web_hub.url, "POST", "/api/sensitive-words", other, {"word": "审计邻县词", "action": "mask"})
    await api(web_hub.url, "PATCH", f"/api/sensitive-words/{mine['id']}", sup, {"enabled": False})
    page = await console("supervisor", "/supervision/audit")
    await expect(page.get_by_test_id("page-audit")).to_be_visible()
    table = page.get_by_test_id("audit-table")
    await expect(table).to_contain_text(mine["id"])
    await expect(table).not_to_contain_text(theirs["id"])  # 邻县's entry: another region
    await shot(page, "console-admin-audit")
    # by action
    await choose(page, "audit-filter-action", "新增敏感词")
    await page.get_by_test_id("audit-search").click()
    await expect(table).to_contain_text(mine["id"])
    await expect(table.locator("tbody tr", has_text="修改敏感词")).to_have_count(0)
    await expect(table).not_to_contain_text(theirs["id"])
    # by user
    await page.get_by_test_id("audit-reset").click()
    await fill(page, "audit-filter-actor", "吴监督")
    await page.get_by_test_id("audit-search").click()
    await expect(table).to_contain_text("暂无记录")
    await fill(page, "audit-filter-actor", "周监督")
    await page.get_by_test_id("audit-search").click()
    await expect(table).to_contain_text(mine["id"])
    # by target (a click on the target fills it)
    await fill(page, "audit-filter-actor", "")
    await table.get_by_role("button", name=mine["id"]).first.click()
    await expect(table.locator("tbody tr")).to_have_count(2)
    await expect(table.locator("tbody tr").nth(0)).to_contain_text("修改敏感词")
    await expect(table.locator("tbody tr").nth(1)).to_contain_text("新增敏感词")
    await shot(page, "console-admin-audit-target")
    # by time
    await set_range(page, "audit-filter-time", "2020-01-01 00:00:00", "2020-12-31 23:59:59")
    await page.get_by_test_id("audit-search").click()
    await expect(table).to_contain_text("暂无记录")
    await set_range(page, "audit-filter-time", "2020-01-01 00:00:00", "2099-12-31 23:59:59")
    await page.get_by_test_id("audit-search").click()
    await expect(table.locator("tbody tr")).to_have_count(2)
    # the neighbouring county's supervisor sees theirs and not ours
    _, seen = await api(web_hub.url, "GET", "/api/audit?action=sensitive_word.create", other)
    targets = {e["target"] for e in seen["items"]}
    assert theirs["id"] in targets and mine["id"] not in targets


async def login_status(web_hub: RunningHub, username: str, password: str) -> int:
    status, _ = await api(web_hub.url, "POST", "/api/auth/token", body={"username": username, "password": password})
    return status


async def staff_lifecycle(page: Page, web_hub: RunningHub, username: str, role_label: str,
                          institution: str | None, shot, prefix: str) -> str:
    """Create ``username`` on the page, reset its password, disable it; check logins after each step."""
    await page.get_by_test_id("staff-create").click()
    await choose(page, "staff-form-role", role_label)
    await fill(page, "staff-form-username", username)
    await fill(page, "staff-form-name", "新同事")
    await fill(page, "staff-form-password", "initpass1")
    if institution:
        await choose(page, "staff-form-institution", institution)
    await settled(page)
    await shot(page, f"{prefix}-create")
    await page.get_by_test_id("staff-form-submit").click()
    await expect(page.get_by_test_id(f"staff-row-{username}")).to_be_visible()
    await expect(page.get_by_test_id(f"staff-status-{username}")).to_have_text("正常")
    assert await login_status(web_hub, username, "initpass1") == 200
    # reset password
    await page.get_by_test_id(f"staff-reset-{username}").click()
    await fill(page, "staff-new-password", "resetpass9")
    await page.get_by_test_id("staff-reset-submit").click()
    await expect(page.get_by_test_id("reset-dialog")).to_be_hidden()
    assert await login_status(web_hub, username, "resetpass9") == 200
    assert await login_status(web_hub, username, "initpass1") == 401
    # disable
    await page.get_by_test_id(f"staff-disable-{username}").click()
    await expect(page.get_by_test_id(f"staff-status-{username}")).to_have_text("已停用")
    assert await login_status(web_hub, username, "resetpass9") in (401, 403)
    await settled(page)
    await shot(page, f"{prefix}-list")
    account = await web_hub.hub.db.users.find_one({"username": username})
    return account["_id"]


async def test_sysadmin_creates_resets_and_disables_a_staff_account(console, web_hub, shot) -> None:
    admin = demo_user(web_hub, "admin.lin")
    institution = await web_hub.hub.db.institutions.find_one({"_id": admin["institution_id"]})
    page = await console("sysadmin", "/accounts/staff")
    await expect(page.get_by_test_id("page-staff")).to_be_visible()
    await expect(page.get_by_test_id("staff-row-supervisor")).to_be_visible()
    account_id = await staff_lifecycle(page, web_hub, "doc.web.sys", "医生", institution["name"], shot,
                                       "console-admin-staff-sysadmin")
    # each change audited, and the 操作记录 link shows them
    changes = f"/api/audit?target={account_id}&action=account."
    _, audit = await api(web_hub.url, "GET", changes, await token(web_hub, "sysadmin"))
    assert [e["action"] for e in audit["items"]] == ["account.disable", "account.password_reset", "account.create"]
    assert all(e["actor_name"] == "系统管理员" for e in audit["items"])
    await page.get_by_test_id("staff-audit-doc.web.sys").click()
    await expect(page.get_by_test_id("page-audit")).to_be_visible()
    rows = page.get_by_test_id("audit-table").locator("tbody tr")
    await expect(rows.first).to_contain_text("停用账号")  # newest first; the account's own logins in between
    for label in ("重置密码", "创建账号", "登录失败"):
        await expect(rows.filter(has_text=label)).to_have_count(1)
    await expect(rows.filter(has_text="登录").filter(has_not_text="登录失败")).to_have_count(2)
    await shot(page, "console-admin-staff-audit")
    # the list's filters; enabling it again lets it log in
    await page.get_by_test_id("menu-/accounts/staff").click()
    await choose(page, "staff-filter-status", "已停用")
    await page.get_by_test_id("staff-search").click()
    await expect(page.get_by_test_id("staff-table").locator("tbody tr")).to_have_count(1)
    await expect(page.get_by_test_id("staff-row-doc.web.sys")).to_be_visible()
    await choose(page, "staff-filter-status", "全部")
    await fill(page, "staff-filter-q", "新同")
    await page.get_by_test_id("staff-search").click()
    await expect(page.get_by_test_id("staff-row-supervisor")).to_have_count(0)
    await page.get_by_test_id("staff-enable-doc.web.sys").click()
    await expect(page.get_by_test_id("staff-status-doc.web.sys")).to_have_text("正常")
    assert await login_status(web_hub, "doc.web.sys", "resetpass9") == 200
    # the county supervisor sees them too (the account is in its region)
    _, seen = await api(web_hub.url, "GET", changes, await token(web_hub, "supervisor"))
    assert [e["action"] for e in seen["items"]] == ["account.enable", "account.disable", "account.password_reset",
                                                    "account.create"]


async def test_institution_admin_manages_only_its_own_staff(console, web_hub, shot) -> None:
    admin = demo_user(web_hub, "admin.lin")
    page = await console("admin", "/accounts/staff")
    await expect(page.get_by_test_id("page-staff")).to_be_visible()
    await expect(page.get_by_test_id("staff-row-doctor.wang")).to_be_visible()
    await expect(page.get_by_test_id("staff-row-supervisor")).to_have_count(0)
    others = [u for u in web_hub.users.values()
              if u["role"] == "doctor" and u.get("institution_id") not in (None, admin["institution_id"])]
    for other in others[:1]:
        await expect(page.get_by_test_id(f"staff-row-{other['username']}")).to_have_count(0)
        status, _ = await api(web_hub.url, "POST", f"/api/accounts/{other['_id']}/disable",
                              await token(web_hub, "admin"), {})
        assert status in (403, 404)
    await page.get_by_test_id("staff-create").click()
    await page.get_by_test_id("staff-form-role").click()
    options = page.locator(".el-select-dropdown__item:visible")
    await expect(options).to_have_count(3)  # doctors, assistants, team leaders only
    await page.keyboard.press("Escape")
    await page.get_by_test_id("staff-dialog").get_by_role("button", name="取消").click()
    account_id = await staff_lifecycle(page, web_hub, "assist.web.lin", "医助", None, shot,
                                       "console-admin-staff-admin")
    account = await web_hub.hub.db.users.find_one({"_id": account_id})
    assert account["institution_id"] == admin["institution_id"] and account["role"] == "assistant"
    _, audit = await api(web_hub.url, "GET", f"/api/audit?target={account_id}&action=account.",
                         await token(web_hub, "supervisor"))
    assert [e["action"] for e in audit["items"]] == ["account.disable", "account.password_reset", "account.create"]
    assert all(e["actor_name"] == "林管理员" for e in audit["items"])


async def test_team_leader_creates_renames_and_deletes_a_tag(console, shot) -> None:
    page = await console("team_leader", "/signing/tags")
    await expect(page.get_by_test_id("tags-page")).to_be_visible()
    await page.get_by_test_id("tags-create").click()
    await fill(page, "tag-name", "慢病随访")
    await page.get_by_test_id("tag-save").click()
    await expect(page.get_by_test_id("tag-row-慢病随访")).to_be_visible()
    await expect(page.get_by_test_id("tag-count-慢病随访")).to_have_text("0")
    await page.get_by_test_id("tag-edit-慢病随访").click()
    await fill(page, "tag-name", "慢病随访组")
    await page.get_by_test_id("tag-save").click()
    await expect(page.get_by_test_id("tag-row-慢病随访组")).to_be_visible()
    await expect(page.get_by_test_id("tag-row-慢病随访")).to_have_count(0)
    await settled(page)
    await shot(page, "console-admin-tags")
    await page.get_by_test_id("tag-delete-慢病随访组").click()
    await page.locator(".el-popconfirm:visible").get_by_role("button", name="删除").click()
    await expect(page.get_by_test_id("tag-row-慢病随访组")).to_have_count(0)


async def test_a_doctor_sees_no_supervision_or_account_screens(console, shot) -> None:
    page = await console("doctor")
    await expect(page.get_by_test_id("page-home")).to_be_visible()
    for group in ("监管中心", "系统管理"):
        await expect(page.get_by_test_id(f"menu-group-{group}")).to_have_count(0)
    for path in ("/supervision/alerts", "/supervision/words", "/supervision/audit", "/accounts/staff"):
        await expect(page.get_by_test_id(f"menu-{path}")).to_have_count(0)
        await page.evaluate(f"location.hash = '#{path}'")
        await expect(page.get_by_test_id("forbidden")).to_contain_text("无权访问")
    await shot(page, "console-admin-doctor-forbidden")
    supervisor = await console("supervisor")
    await expect(supervisor.get_by_test_id("menu-group-监管中心")).to_be_visible()
    await expect(supervisor.get_by_test_id("menu-/accounts/staff")).to_have_count(0)
    admin = await console("admin")
    await expect(admin.get_by_test_id("menu-/accounts/staff")).to_be_visible()
    await expect(admin.get_by_test_id("menu-group-监管中心")).to_have_count(0)


async def test_login_form_of_a_created_account(login_page, console, web_hub) -> None:
    """An account created on screen logs in through the console's own form with its password."""
    status, _ = await api(web_hub.url, "POST", "/api/accounts", await token(web_hub, "sysadmin"), {
        "role": "supervisor", "username": "sup.web.new", "password": "suppass12", "name": "新监督员",
        "region": "330522000000"})
    assert status == 201
    page = await login_page("console")
    await fill(page, "login-username", "sup.web.new")
    await fill(page, "login-password", "suppass12")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("user-name")).to_have_text("新监督员")
    await expect(page.get_by_test_id("menu-/supervision/alerts")).to_be_visible()
