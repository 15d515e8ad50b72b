"""Browser fixtures of the web clients (the console at ``/console``, the H5 app at ``/h5``): one hub with the demo
data per test module, one headless Chromium per session, and pages already logged in as a demo role.

- ``web_hub``: a ``RunningHub`` with the signing and example plugins (and ``tests.plugins.web_screens``: pages
  on ``/webtest/`` paths for supervisors or signers only) and the demo seeded once per module
  (``users`` maps each demo username to its user document). A module may set ``WEB_HUB_SETTINGS = {...}`` to
  add or replace settings (``{"signing.demo_residents": 50}`` seeds faster).
- ``console(role_or_username, path="/")`` / ``h5(...)``: a new browser context (1440×900 / 375×812, zh-CN)
  whose session is a minted token in sessionStorage ``jtyh.session``; returns the page at ``#<path>`` once the
  shell is up. ``login_page("console"|"h5")`` gives a logged-out page to drive the login form.
- ``page_errors``: every console error, page error and CSP violation of those pages; the test fails at teardown
  unless it is empty (``page_errors.allow(substring)`` for an error the test causes on purpose).
- ``shot(page, name)``: a screenshot in ``$HUB_SCREENSHOTS`` or ``/tmp/hub-screenshots`` (the folder is printed
  once per session). Look at them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from hub.demo import seed_demo
from hub.embedded import EmbeddedDatabase
from hub.store import connect
from tests.support import RunningHub, hub_overrides, require_or_skip, start_hub

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CONSOLE_VIEWPORT = {"width": 1440, "height": 900}
H5_VIEWPORT = {"width": 375, "height": 812}
WAIT_MS = 15_000
#: A demo login for each role (README "Demo logins").
DEMO_BY_ROLE = {"resident": "resident.zhang", "doctor": "doctor.wang", "assistant": "assistant.sun",
                "team_leader": "leader.qian", "admin": "admin.lin", "supervisor": "supervisor",
                "sysadmin": "sysadmin"}
SESSION_KEY = "jtyh.session"
#: Vant's icon font has a remote fallback after its inline data: font; Chromium reports the refused fallback
#: although the inline font loads (the icons render). Not a fault of ours.
KNOWN_NOISE = ("at.alicdn.com",)
CSP_REPORTER = """document.addEventListener('securitypolicyviolation',
    (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));"""
# Put the minted session in place on the first load of the origin only: a logout then stays logged out.
SEED_SESSION = """(([key, value]) => {
  if (!sessionStorage.getItem('jtyh.web.seeded')) {
    sessionStorage.setItem('jtyh.web.seeded', '1');
    if (value) sessionStorage.setItem(key, value);
  }
})(%s);"""

_printed: list[bool] = []


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    folder = Path(os.environ.get("HUB_SCREENSHOTS") or "/tmp/hub-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shot(screenshot_dir: Path, request: pytest.FixtureRequest) -> Callable[[Page, str], Awaitable[Path]]:
    async def take(page: Page, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        await page.screenshot(path=str(path))
        if not _printed:
            _printed.append(True)
            request.config.get_terminal_writer().line(f"screenshots: {screenshot_dir}")
        return path
    return take


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    require_or_skip(f"Chromium at {CHROMIUM}", Path(CHROMIUM).exists(), "apt-get install chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
async def web_hub(mongo: EmbeddedDatabase, request: pytest.FixtureRequest) -> AsyncIterator[RunningHub]:
    """A hub with every plugin and the demo data, shared by the tests of one module."""
    name = "w_" + uuid.uuid4().hex[:12]
    extra = {"plugins": {"signing": True, "example_greeter": True},
             "plugin_modules": ["tests.plugins.consult_allow", "tests.plugins.web_screens"],
             **getattr(request.module, "WEB_HUB_SETTINGS", {})}
    running = await start_hub(hub_overrides(mongo.uri, name, **extra))
    try:
        started = time.monotonic()
        await seed_demo(running.hub)
        seconds = time.monotonic() - started
        request.config.get_terminal_writer().line(f"\ndemo seeded for {request.module.__name__} in {seconds:.1f} s")
        running.users = {u["username"]: u async for u in running.hub.db.users.find({})}
        yield running
    finally:
        await running.stop()
        client = connect(mongo.uri)
        try:
            await client.drop_database(name)
        finally:
            await client.close()


class PageErrors(list):
    """Errors the pages reported; ``allow`` a substring for errors a test causes on purpose."""

    def __init__(self) -> None:
        super().__init__()
        self.allowed: list[str] = list(KNOWN_NOISE)

    def allow(self, text: str) -> None:
        self.allowed.append(text)

    def add(self, text: str) -> None:
        self.append(text)

    def unexpected(self) -> list[str]:
        return [e for e in self if not any(a in e for a in self.allowed)]


@pytest.fixture
async def page_errors() -> AsyncIterator[PageErrors]:
    errors = PageErrors()
    yield errors
    assert errors.unexpected() == [], "the pages reported errors"


def demo_user(running: RunningHub, who: str) -> dict[str, Any]:
    username = DEMO_BY_ROLE.get(who, who)
    assert username in running.users, f"no demo login {username!r}"
    return running.users[username]


async def session_for(running: RunningHub, user: dict[str, Any]) -> dict[str, Any]:
    """A ``jtyh.session`` value with a minted token (of the stored account: a logout in an earlier test
    ended the older tokens)."""
    user = await running.hub.db.users.find_one({"_id": user["_id"]})
    grant = running.hub.accounts.grant(user)
    return {"token": grant.access_token, "expires_at": None,
            "user": {"id": user["_id"], "role": user["role"], "name": user["name"]}}


@pytest.fixture
async def web_context(browser: Browser, web_hub: RunningHub, page_errors: PageErrors
                      ) -> AsyncIterator[Callable[..., Awaitable[tuple[BrowserContext, Page]]]]:
    """``await web_context(app, session=None)``: a fresh context and page; the session (a dict for
    ``jtyh.session``) is put in sessionStorage before the first script runs."""
    contexts: list[BrowserContext] = []

    async def make(app: str, session: dict[str, Any] | None = None) -> tuple[BrowserContext, Page]:
        mobile = app == "h5"
        context = await browser.new_context(
            viewport=H5_VIEWPORT if mobile else CONSOLE_VIEWPORT, is_mobile=mobile, has_touch=mobile,
            device_scale_factor=2 if mobile else 1, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        await context.add_init_script(CSP_REPORTER)
        value = json.dumps(session, ensure_ascii=False) if session else None
        await context.add_init_script(SEED_SESSION % json.dumps([SESSION_KEY, value]))
        page = await context.new_page()
        page.on("pageerror", lambda exc: page_errors.add(f"{app} pageerror: {exc}"))
        page.on("console", lambda msg: page_errors.add(f"{app} console: {msg.text}") if msg.type == "error" else None)
        return context, page

    yield make
    for context in contexts:
        await context.close()


def _opener(app: str, shell_id: str):
    @pytest.fixture
    def opener(web_hub: RunningHub, web_context) -> Callable[..., Awaitable[Page]]:
        async def open_as(who: str, path: str = "/") -> Page:
            _, page = await web_context(app, await session_for(web_hub, demo_user(web_hub, who)))
            await page.goto(f"{web_hub.url}/{app}#{path}")
            await expect(page.get_by_test_id(shell_id)).to_be_visible()
            return page
        return open_as
    return opener


console = _opener("console", "console-shell")
h5 = _opener("h5", "h5-shell")


@pytest.fixture
def login_page(web_hub: RunningHub, web_context) -> Callable[[str], Awaitable[Page]]:
    """A logged-out page of the console or the H5 app, at its login form."""
    async def open_app(app: str) -> Page:
        _, page = await web_context(app)
        await page.goto(f"{web_hub.url}/{app}")
        await expect(page.get_by_test_id("login-submit")).to_be_visible()
        return page
    return open_app


async def fill(page: Page, testid: str, value: str) -> None:
    """Fill an input whose ``data-testid`` is on the input itself (Element Plus passes it through) or on a
    wrapper (Vant's van-field)."""
    target = page.locator(f"input[data-testid='{testid}'], textarea[data-testid='{testid}'], "
                          f"[data-testid='{testid}'] input, [data-testid='{testid}'] textarea").first
    await target.fill(value)
