"""The H5 client (``static/``) in two real headless Chromium pages, a resident and a doctor, against a real hub:
log in, open a consultation from 我的家庭医生 with one tap, chat live (read marks, typing, screening, recall), lose the
socket and catch up, end the consultation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocketRoute, async_playwright, expect

from tests.support import PASSWORD, RunningHub, api, require_or_skip, wait_for

CHROMIUM = Path("/usr/bin/chromium")  # Debian's: the test never downloads a browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 375, "height": 740}
WAIT_MS = 10_000
BLOCKED_WORD = "违禁测试词"
MASKED_WORD = "屏蔽测试词"

CSP_REPORTER = """document.addEventListener('securitypolicyviolation',
    (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));"""



@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_or_skip(f"Chromium at {CHROMIUM}", CHROMIUM.exists(), "apt-get install chromium")


async def add_word(hub: RunningHub, word: str, action: str) -> None:
    status, body = await api(hub.url, "POST", "/api/sensitive-words", hub.users["sysadmin"]["token"],
                             {"word": word, "action": action, "category": "测试"})
    assert status == 201, body
    for _ in range(100):  # a change takes effect within one second
        if hub.hub.check_text(word).action == action:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{word} never became {action}")


async def new_page(browser: Browser, errors: list[str]) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
                                        locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The hub's Content-Security-Policy must not break the page: any refusal is a failure (Chromium logs each
    # one to the console, and the page reports it as an event).
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    await page.add_init_script(CSP_REPORTER)
    return context, page


async def log_in(page: Page, url: str, username: str) -> None:
    await page.goto(url)
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("view-list")).to_be_visible()
    await expect(page.get_by_test_id("conn-state")).to_have_text("已连接")


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("message-input").fill(text)
    await page.get_by_test_id("send").click()


def message(page: Page, text: str):
    return page.get_by_test_id("message").filter(has_text=text)


def drop_first_message_with(marker: str, dropped: list[str]):
    """A WebSocket route that passes every frame through, except the first ``message`` carrying ``marker``: the
    page then sees a gap in seq and has to fill it."""

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_page(data: str | bytes) -> None:
            if not dropped and isinstance(data, str) and marker in data and '"type":"message"' in data:
                dropped.append(data)
                return
            ws.send(data)

        server.on_message(to_page)

    return route


async def test_resident_and_doctor_chat_in_the_browser(hub: RunningHub, tmp_path: Path) -> None:
    await add_word(hub, BLOCKED_WORD, "block")
    await add_word(hub, MASKED_WORD, "mask")
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            resident_ctx, resident = await new_page(browser, errors)
            doctor_ctx, doctor = await new_page(browser, errors)
            gap_marker, dropped = "早上 150/95", []
            await doctor.route_web_socket("**/ws", drop_first_message_with(gap_marker, dropped))

            # Both log in through the page; the token stays in sessionStorage.
            await resident.goto(hub.url)
            await expect(resident.get_by_test_id("login-form")).to_be_visible()
            await resident.screenshot(path=tmp_path / "login.png")
            await log_in(doctor, hub.url, "doctor")
            await log_in(resident, hub.url, "resident")
            assert await resident.evaluate("Object.keys(sessionStorage).length") == 1
            await expect(doctor.get_by_test_id("conv-empty")).to_be_visible()

            # The resident sees their family doctor (the one they may consult, nobody else) and opens a
            # consultation with one tap; the doctor hears of it at once.
            await expect(resident.get_by_test_id("start-section")).to_contain_text("我的家庭医生")
            family_doctor = resident.get_by_test_id("doctor-item")
            await expect(family_doctor).to_have_count(1)
            await expect(family_doctor.get_by_test_id("doctor-name")).to_have_text("测试doctor")
            await expect(family_doctor.get_by_test_id("doctor-action")).to_have_text("发起咨询")
            await expect(doctor.get_by_test_id("start-section")).to_be_hidden()
            await resident.screenshot(path=tmp_path / "resident-doctors.png")
            await family_doctor.click()
            await expect(resident.get_by_test_id("view-chat")).to_be_visible()
            await expect(resident.get_by_test_id("title")).to_have_text("测试doctor")
            await expect(doctor.get_by_test_id("toasts")).to_contain_text("新的在线咨询")
            await expect(doctor.get_by_test_id("notices-count")).to_have_text("1")
            conv_item = doctor.get_by_test_id("conv-item")
            await expect(conv_item).to_have_count(1)
            await expect(conv_item.get_by_test_id("conv-name")).to_have_text("测试resident")
            await doctor.get_by_test_id("notices-toggle").click()
            await expect(doctor.get_by_test_id("notice")).to_have_count(1)
            await expect(doctor.get_by_test_id("notice")).to_contain_text("测试resident 发起了在线咨询")
            await expect(doctor.get_by_test_id("notices-count")).to_be_hidden()
            await doctor.get_by_test_id("notices-close").click()
            await expect(doctor.get_by_test_id("notices")).to_be_hidden()

            # Back on the list the doctor offers the open consultation; a tap returns to it, nothing new opens.
            chat_hash = await resident.evaluate("location.hash")
            await resident.get_by_test_id("back").click()
            await expect(family_doctor.get_by_test_id("doctor-action")).to_have_text("继续咨询")
            await family_doctor.click()
            await expect(resident.get_by_test_id("view-chat")).to_be_visible()
            assert await resident.evaluate("location.hash") == chat_hash
            await expect(resident.get_by_test_id("title")).to_have_text("测试doctor")

            # The resident writes; the doctor's list counts it as unread.
            first = "医生您好，我最近血压有点高"
            await say(resident, first)
            await expect(message(resident, first)).to_have_attribute("data-state", "sent")
            await expect(message(resident, first).get_by_test_id("receipt")).to_have_text("未读")
            await expect(conv_item.get_by_test_id("unread")).to_have_text("1")
            await expect(conv_item.get_by_test_id("conv-preview")).to_have_text(first)
            await doctor.screenshot(path=tmp_path / "doctor-list.png")

            # The doctor opens it and reads: the resident sees the read mark.
            await conv_item.click()
            await expect(message(doctor, first)).to_be_visible()
            await expect(message(resident, first).get_by_test_id("receipt")).to_have_text("已读")

            # The doctor types: the resident sees it; then the reply arrives and the indicator goes.
            await doctor.get_by_test_id("message-input").press_sequentially("请问")
            await expect(resident.get_by_test_id("typing")).to_have_text("对方正在输入…")
            reply = "请问您现在的血压是多少？"
            await doctor.get_by_test_id("message-input").fill(reply)
            await doctor.get_by_test_id("message-input").press("Enter")
            await expect(message(resident, reply)).to_be_visible()
            await expect(resident.get_by_test_id("typing")).to_be_hidden()
            await expect(message(doctor, reply).get_by_test_id("receipt")).to_have_text("已读")

            # Screening: a blocked word is refused with the reason; a masked one arrives masked.
            await say(resident, f"这里有{BLOCKED_WORD}")
            blocked = message(resident, BLOCKED_WORD)
            await expect(blocked).to_have_attribute("data-state", "failed")
            await expect(blocked.get_by_test_id("send-error")).to_have_text("内容包含违禁词，未发送")
            await say(resident, f"高压150，{MASKED_WORD}")
            masked = "高压150，" + "*" * len(MASKED_WORD)
            await expect(message(doctor, masked)).to_be_visible()
            await expect(message(resident, masked)).to_have_attribute("data-state", "sent")
            await expect(message(resident, MASKED_WORD)).to_have_count(0)  # the typed text gives way to the stored
            await expect(message(doctor, MASKED_WORD)).to_have_count(0)

            # User text is text, never markup.
            markup = "<b>不是粗体</b><img src=x onerror=alert(1)>"
            await say(resident, markup)
            await expect(message(doctor, markup).get_by_test_id("message-text")).to_have_text(markup)
            assert await doctor.locator("[data-testid=msg-list] b, [data-testid=msg-list] img").count() == 0

            # One live frame never reaches the doctor: the next one shows the gap and the page fills it with sync.
            await say(resident, f"血压{gap_marker}")
            await expect(message(resident, gap_marker)).to_have_attribute("data-state", "sent")
            await say(resident, "晚上 140/90")
            await expect(message(doctor, "晚上 140/90")).to_be_visible()
            await expect(message(doctor, gap_marker)).to_have_count(1)
            assert len(dropped) == 1
            seqs = await doctor.locator("[data-testid=message][data-seq]").evaluate_all(
                "els => els.map(e => Number(e.dataset.seq))")
            assert seqs == [1, 2, 3, 4, 5, 6], seqs

            # The resident recalls the first message; both sides show it as recalled.
            first_mine = resident.locator("[data-testid=message][data-seq='1']")
            await first_mine.get_by_test_id("recall").click()
            await expect(first_mine.get_by_test_id("message-text")).to_have_text("消息已撤回")
            await expect(doctor.locator("[data-testid=message][data-seq='1'] [data-testid=message-text]")) \
                .to_have_text("消息已撤回")
            await expect(message(doctor, first)).to_have_count(0)

            # The resident loses the socket; the doctor writes meanwhile; the resident reconnects and catches up.
            await resident_ctx.set_offline(True)
            await resident.evaluate("window.__hub.socket.close()")
            await expect(resident.get_by_test_id("conn-state")).to_have_text("重新连接中")
            missed = "请明天上午来社区卫生服务站复诊"
            await say(doctor, missed)
            await expect(message(doctor, missed)).to_have_attribute("data-state", "sent")
            # Several reconnect attempts fail while offline (waited for, not slept on).
            await wait_for(lambda: resident.evaluate("window.__hub.attempts >= 3"), "reconnect attempts")
            await expect(resident.get_by_test_id("conn-state")).to_have_text("重新连接中")
            await expect(message(resident, missed)).to_have_count(0)
            offline_note = "我在路上了"  # written while offline: pending until the socket is back
            await say(resident, offline_note)
            await expect(message(resident, offline_note)).to_have_attribute("data-state", "pending")
            await expect(message(resident, offline_note).get_by_test_id("receipt")).to_have_text("发送中…")
            await resident_ctx.set_offline(False)
            await expect(resident.get_by_test_id("conn-state")).to_have_text("已连接")
            await expect(message(resident, missed)).to_have_count(1)
            await expect(message(resident, offline_note)).to_have_attribute("data-state", "sent")
            await expect(message(doctor, offline_note)).to_have_count(1)
            seqs = await resident.locator("[data-testid=message][data-seq]").evaluate_all(
                "els => els.map(e => Number(e.dataset.seq))")
            assert seqs == list(range(1, 9)), seqs  # in order, none doubled, the blocked one never stored
            conv_id = await resident.evaluate("decodeURIComponent(location.hash.slice(4))")
            assert await resident.evaluate("window.__hub.state") == {
                "conn": "open", "convs": {conv_id: 8}, "inbox": 0, "pending": 0}
            await expect(message(doctor, missed).get_by_test_id("receipt")).to_have_text("已读")

            # Still live after the reconnect.
            await say(resident, "好的，谢谢医生")
            await expect(message(doctor, "好的，谢谢医生")).to_be_visible()

            # The doctor ends the consultation (two taps); both inputs are disabled.
            end = doctor.get_by_test_id("end-consultation")
            await end.click()
            await expect(end).to_have_text("确认结束？")
            await end.click()
            for page in (resident, doctor):
                await expect(page.get_by_test_id("ended-banner")).to_have_text("本次咨询已结束")
                await expect(page.get_by_test_id("message-input")).to_be_disabled()
                await expect(page.get_by_test_id("send")).to_be_disabled()
            await expect(end).to_be_hidden()

            for name, page in (("resident", resident), ("doctor", doctor)):
                await page.screenshot(path=tmp_path / f"{name}.png")
                assert (tmp_path / f"{name}.png").stat().st_size > 0
            await resident.get_by_test_id("back").click()
            await expect(family_doctor.get_by_test_id("doctor-action")).to_have_text("发起咨询")  # ended: a new one
            await resident.screenshot(path=tmp_path / "resident-list.png")

            # Back on the list the consultation has moved to 已结束; logging out returns to the login form.
            await doctor.get_by_test_id("back").click()
            await expect(doctor.get_by_test_id("conv-item")).to_have_count(0)
            await doctor.get_by_test_id("tab-ended").click()
            await expect(doctor.get_by_test_id("conv-item")).to_have_count(1)
            await doctor.get_by_test_id("logout").click()
            await expect(doctor.get_by_test_id("view-login")).to_be_visible()
            assert await doctor.evaluate("Object.keys(sessionStorage).length") == 0

            # A token the hub no longer accepts sends the page back to the login form.
            await resident.evaluate("""() => {
                const key = Object.keys(sessionStorage)[0];
                sessionStorage.setItem(key, JSON.stringify({...JSON.parse(sessionStorage.getItem(key)),
                                                            token: 'expired'}));
            }""")
            await resident.reload()
            await expect(resident.get_by_test_id("view-login")).to_be_visible()
            await expect(resident.get_by_test_id("login-error")).to_have_text("登录已失效，请重新登录")

            await resident_ctx.close()
            await doctor_ctx.close()
        finally:
            await browser.close()
    assert errors == []
