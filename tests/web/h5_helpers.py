"""Helpers of the H5 browser tests: Chromium at 375×812 on the hub's own H5 shell (``/h5``), logged in by a minted
token put where the shell keeps its session (sessionStorage ``jtyh.session``), console errors collected."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page

VIEWPORT = {"width": 375, "height": 812}
# Vant's vendored index.css names a remote fallback (at.alicdn.com) after its inline woff2 icon font; Chromium
# still reports the CSP refusal of it (font-src 'self' data:). A defect of the vendored file (its refresh should
# strip the remote source), not of a page: that one message is left out, every other error fails a test.
VENDOR_FONT_NOISE = "at.alicdn.com/t/c/font_2553510"


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("HUB_SCREENSHOTS") or "/tmp/hub-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def launch(playwright: Any) -> Browser:
    return await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])


async def open_h5(browser: Browser, base_url: str, token: str, user: dict[str, Any], errors: list[str],
                  path: str = "/home") -> Page:
    """A 375×812 page of the H5 app logged in as ``user``, collecting console errors into ``errors``."""
    page = await browser.new_page(viewport=VIEWPORT)
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and VENDOR_FONT_NOISE not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    session = {"token": token, "user": user, "expires_at": None}
    await page.add_init_script(f"sessionStorage.setItem('jtyh.session', {json.dumps(json.dumps(session))})")
    await page.goto(f"{base_url}/h5#{path}")
    await page.get_by_test_id("h5-shell").wait_for()
    return page


async def go(page: Page, base_url: str, path: str) -> None:
    await page.goto(f"{base_url}/h5#{path}")


async def shoot(page: Page, name: str) -> Path:
    path = screenshot_dir() / f"h5-signing-{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
