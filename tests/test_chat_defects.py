"""The defects of the chat page that issue 9 lists, each driven in headless Chromium against a real hub: read marks
after reopening a consultation, a silent network drop, a send that gets no ack, a REST call that hangs."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from playwright.async_api import Route, WebSocketRoute, async_playwright, expect

from tests.conftest import add_users
from tests.support import Client, RunningHub, api, require_or_skip, wait_for
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, log_in, message, new_page, say

ACK_TIMEOUT_MS = 5000     # static/core/socket.js DEFAULTS.ackTimeoutMs
REST_TIMEOUT_MS = 10000   # static/app.js REST_TIMEOUT_MS
SHORT_HEARTBEAT_SECS = 2


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_or_skip(f"Chromium at {CHROMIUM}", CHROMIUM.exists(), "apt-get install chromium")


async def open_consultation(hub: RunningHub) -> str:
    status, conv = await api(hub.url, "POST", "/api/consultations", hub.users["resident"]["token"],
                             {"doctor_id": hub.users["doctor"]["_id"]})
    assert status in (200, 201), conv
    return conv["id"]


async def stored_texts(hub: RunningHub, conv: str) -> list[str]:
    status, page = await api(hub.url, "GET", f"/api/consultations/{conv}/messages?after_seq=0&limit=200",
                             hub.users["resident"]["token"])
    assert status == 200, page
    return [m["text"] for m in page["items"]]


async def chat_ready(page, conv: str) -> None:
    """The chat has its history and its first sync answered: what is sent from now on is new to it."""
    await page.wait_for_function("""(conv) => { const s = window.__hub.hubSocket;
        return !!s && s.lastSeq(conv) !== null && s._syncs.size === 0; }""", arg=conv)


class Links:
    """A WebSocket route in front of the page's socket: ``silence()`` makes every connection open now go quiet both
    ways without closing (a network that drops packets); ``drop_to_page`` drops frames on their way to the page."""

    def __init__(self) -> None:
        self.links: list[dict[str, bool]] = []
        self.drop_to_page = lambda data: False
        self.holding = False
        self.refused = 0

    def silence(self, hold: bool = False) -> None:
        """``hold``: new connections are refused too, until ``release()`` (the network is still down)."""
        self.holding = hold
        for link in self.links:
            link["silent"] = True

    def release(self) -> None:
        self.holding = False

    async def route(self, ws: WebSocketRoute) -> None:
        if self.holding:
            self.refused += 1
            await ws.close()
            return
        link = {"silent": False}
        self.links.append(link)
        server = ws.connect_to_server()

        def to_page(data: str | bytes) -> None:
            if not link["silent"] and not self.drop_to_page(data):
                ws.send(data)

        def to_server(data: str | bytes) -> None:
            if not link["silent"]:
                server.send(data)

        server.on_message(to_page)
        ws.on_message(to_server)


async def test_read_marks_after_reopening_come_from_peer_read_seq(hub: RunningHub, tmp_path: Path) -> None:
    conv = await open_consultation(hub)
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context, page = await new_page(browser, errors)
            await log_in(page, hub.url, "resident")
            await page.goto(f"{hub.url}/#/c/{conv}")
            await chat_ready(page, conv)
            text = "请帮我看一下化验单"
            await say(page, text)
            await expect(message(page, text)).to_have_attribute("data-state", "sent")
            await expect(message(page, text).get_by_test_id("receipt")).to_have_text("未读")
            # The doctor reads it (on their own socket); the page shows it live …
            doctor = await Client.connect(hub.ws_url, hub.users["doctor"]["token"])
            await doctor.send({"type": "read", "conv": conv, "seq": 1})
            await expect(message(page, text).get_by_test_id("receipt")).to_have_text("已读")
            # … and still after the consultation is opened afresh (a reload: nothing in memory).
            await page.reload()
            await expect(page.get_by_test_id("view-chat")).to_be_visible()
            await expect(message(page, text)).to_have_attribute("data-state", "sent")
            await expect(message(page, text).get_by_test_id("receipt")).to_have_text("已读")
            await page.screenshot(path=tmp_path / "reopened-read.png")
            await context.close()
        finally:
            await browser.close()
    assert errors == []


async def test_a_silent_drop_shows_within_seconds_and_the_page_catches_up(make_hub, tmp_path: Path) -> None:
    hub = await make_hub(ws_heartbeat_secs=SHORT_HEARTBEAT_SECS)
    await add_users(hub)
    conv = await open_consultation(hub)
    links = Links()
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context, page = await new_page(browser, errors)
            await page.route_web_socket("**/ws", links.route)
            await log_in(page, hub.url, "resident")
            await page.goto(f"{hub.url}/#/c/{conv}")
            await expect(page.get_by_test_id("conn-state")).to_have_text("已连接")
            # Nothing arrives, nothing closes, and the network stays down a while: the header must not go on
            # saying 已连接 (two heartbeats of silence and the socket is given up).
            links.silence(hold=True)
            await expect(page.get_by_test_id("conn-state")).to_have_text(
                "重新连接中", timeout=SHORT_HEARTBEAT_SECS * 2 * 1000 + 4000)
            await page.screenshot(path=tmp_path / "silent-drop.png")
            doctor = await Client.connect(hub.ws_url, hub.users["doctor"]["token"])
            missed = "血压药记得按时吃"
            await doctor.say(conv, missed)
            await wait_for(lambda: links.refused >= 1, "a reconnect attempt while the network is down")
            await expect(page.get_by_test_id("conn-state")).to_have_text("重新连接中")
            links.release()
            await expect(page.get_by_test_id("conn-state")).to_have_text("已连接", timeout=30_000)
            await expect(message(page, missed)).to_have_count(1)  # caught up by sync on the new socket
            assert len(links.links) >= 2
            await context.close()
        finally:
            await browser.close()
    assert errors == []


async def test_a_send_without_ack_turns_into_unsent_and_a_tap_resends_it(hub: RunningHub, tmp_path: Path) -> None:
    conv = await open_consultation(hub)
    links = Links()
    lost: list[str] = []
    text = "这条消息的确认丢了"

    def lose_first_ack(data: str | bytes) -> bool:
        """The first ack and the page's own copy of the message never arrive (the hub has stored it)."""
        if not isinstance(data, str):
            return False
        kind = '"type":"ack"' if '"type":"ack"' in data else '"type":"message"' if text in data else None
        if kind and not any(kind in x for x in lost):
            lost.append(data)
            return True
        return False

    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context, page = await new_page(browser, errors)
            await page.route_web_socket("**/ws", links.route)
            await log_in(page, hub.url, "resident")
            await page.goto(f"{hub.url}/#/c/{conv}")
            await expect(page.get_by_test_id("conn-state")).to_have_text("已连接")
            await chat_ready(page, conv)
            links.drop_to_page = lose_first_ack
            await say(page, text)
            bubble = message(page, text)
            await expect(bubble).to_have_attribute("data-state", "pending")
            await expect(bubble).to_have_attribute("data-state", "failed", timeout=ACK_TIMEOUT_MS + 5000)
            await expect(bubble.get_by_test_id("send-error")).to_have_text("未发送，点击重试")
            assert len(lost) == 2
            await page.screenshot(path=tmp_path / "unsent.png")
            await bubble.get_by_test_id("send-error").click()  # the same id again: the hub answers the first ack
            await expect(bubble).to_have_attribute("data-state", "sent")
            await expect(message(page, text)).to_have_count(1)
            assert (await stored_texts(hub, conv)).count(text) == 1
            await expect(page.get_by_test_id("conn-state")).to_have_text("已连接")
            await context.close()
        finally:
            await browser.close()
    assert errors == []


async def test_a_hanging_rest_call_times_out(hub: RunningHub, tmp_path: Path) -> None:
    hung: list[Route] = []

    async def hang(route: Route) -> None:
        hung.append(route)  # never answered

    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context, page = await new_page(browser, errors)
            await page.route("**/api/consultations/doctors", hang)
            await log_in(page, hub.url, "resident")
            note = page.get_by_test_id("doctors-note")
            await expect(note).to_contain_text("家庭医生加载失败", timeout=REST_TIMEOUT_MS + 5000)
            assert hung
            await page.screenshot(path=tmp_path / "rest-timeout.png")
            await page.unroute("**/api/consultations/doctors")
            await page.get_by_test_id("doctors-retry").click()
            await expect(page.get_by_test_id("doctor-item")).to_have_count(1)
            for route in hung:
                with contextlib.suppress(Exception):
                    await route.abort()
            await context.close()
        finally:
            await browser.close()
    assert errors == []


async def test_the_doctor_sees_the_residents_facts_beside_the_chat(make_hub, tmp_path: Path) -> None:
    from tests.signing.world import VILLAGE_A, build_world, id_number

    world = await build_world(make_hub)
    status, me = await world.call("res1", "POST", "/api/signing/family", {
        "name": "测试res1", "id_number": id_number(), "village": VILLAGE_A, "relation": "本人"})
    assert status == 201, me
    status, application = await world.call("res1", "POST", "/api/signing/applications", {
        "resident_id": me["id"], "team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")})
    assert status == 201, application
    status, _ = await world.call("doctor_a1", "POST", f"/api/signing/signings/{application['id']}/approve", {})
    assert status == 200
    status, _ = await world.call("doctor_a1", "PATCH", f"/api/signing/residents/{me['id']}",
                                 {"key_populations": ["老年人", "高血压"]})
    assert status == 200
    status, conv = await world.call("res1", "POST", "/api/consultations", {"doctor_id": world.id("doctor_a1")})
    assert status == 201, conv
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context, page = await new_page(browser, errors)
            await log_in(page, world.running.url, "doctor_a1")
            await page.get_by_test_id("conv-item").click()
            facts = page.get_by_test_id("resident-facts")
            await expect(facts).to_be_visible()
            await expect(facts.get_by_test_id("facts-name")).to_have_text("测试res1")
            await expect(facts.get_by_test_id("facts-line")).to_contain_text("城东村")
            await expect(facts.get_by_test_id("facts-line")).to_contain_text("岁")
            await expect(facts.get_by_test_id("facts-line")).to_contain_text("重点人群：老年人、高血压")
            await expect(facts.get_by_test_id("facts-signing")).to_contain_text("签约：已签约")
            await page.screenshot(path=tmp_path / "doctor-facts.png")
            await context.close()
            # the resident's own chat shows no such card
            context, page = await new_page(browser, errors)
            await log_in(page, world.running.url, "res1")
            await page.goto(f"{world.running.url}/#/c/{conv['id']}")
            await expect(page.get_by_test_id("view-chat")).to_be_visible()
            await expect(page.get_by_test_id("resident-facts")).to_be_hidden()
            await context.close()
        finally:
            await browser.close()
    assert errors == []
