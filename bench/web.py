"""First loads of the web shells in a real headless Chromium, against a hub with the demo data.

    python -m bench.web [--runs 5] [--residents 200]

- Console (1440×900, no throttling): from navigation to a usable shell (the menu from ``/api/screens`` and the
  header shown), cold cache (a new browser context each run), then warm (a reload: the vendor files come from
  the cache, the rest revalidated by ETag).
- H5 (375×812) under a throttled "fast 3G" profile set through CDP ``Network.emulateNetworkConditions``
  (562.5 kbps down and up, 150 ms latency): cold and warm, to the tab bar shown.

The session is a token minted by the hub and put in sessionStorage before the page loads (no login form), so
the figures are the shells' own load. Bytes are the transferred (compressed) sizes the browser reports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import time

from playwright.async_api import Browser, async_playwright

from hub.demo import seed_demo
from hub.testing import hub_settings, scratch_database, start_hub

FAST_3G = {"offline": False, "latency": 150, "downloadThroughput": 562.5 * 1000 / 8,
           "uploadThroughput": 562.5 * 1000 / 8}
SEED = """sessionStorage.getItem('jtyh.session') || sessionStorage.setItem('jtyh.session', %s);"""
BYTES = "performance.getEntriesByType('resource').reduce((n, e) => n + (e.transferSize || 0), 0)" \
        " + (performance.getEntriesByType('navigation')[0] || {transferSize: 0}).transferSize"


async def one_load(browser: Browser, url: str, session: str, app: str, ready: str, throttle: bool
                   ) -> tuple[float, float, int, int]:
    """Cold then warm load times (ms) and transferred bytes of one new context."""
    mobile = app == "h5"
    context = await browser.new_context(viewport={"width": 375, "height": 812} if mobile else
                                        {"width": 1440, "height": 900}, is_mobile=mobile, locale="zh-CN")
    await context.add_init_script(SEED % json.dumps(session))
    page = await context.new_page()
    if throttle:
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.emulateNetworkConditions", FAST_3G)
    times, sizes = [], []
    for step in ("cold", "warm"):
        started = time.perf_counter()
        if step == "cold":
            await page.goto(f"{url}/{app}", wait_until="commit")
        else:
            await page.reload(wait_until="commit")
        await page.wait_for_selector(ready, state="visible", timeout=120_000)
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(await page.evaluate(BYTES))
    await context.close()
    return times[0], times[1], sizes[0], sizes[1]


def summary(name: str, rows: list[tuple[float, float, int, int]]) -> str:
    cold, warm = [r[0] for r in rows], [r[1] for r in rows]
    return (f"{name}: cold median {statistics.median(cold):.0f} ms (min {min(cold):.0f}, max {max(cold):.0f}), "
            f"{rows[0][2] / 1024:.0f} KB transferred; warm median {statistics.median(warm):.0f} ms, "
            f"{rows[0][3] / 1024:.0f} KB transferred")


async def main(runs: int, residents: int) -> None:
    with scratch_database() as db:
        running = await start_hub(hub_settings(db.uri, "bench_web", plugins={"signing": True},
                                               **{"signing.demo_residents": residents}))
        try:
            await seed_demo(running.hub)
            sessions = {}
            for username in ("doctor.wang", "resident.zhang"):
                user = await running.hub.db.users.find_one({"username": username})
                grant = running.hub.accounts.grant(user)
                sessions[username] = json.dumps({"token": grant.access_token, "user": {
                    "id": user["_id"], "role": user["role"], "name": user["name"]}})
            chromium = shutil.which("chromium") or "/usr/bin/chromium"
            print(f"setup: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                  f"Python {platform.python_version()}, Chromium at {chromium} (headless), hub in-process on "
                  f"127.0.0.1 with SecantusDB and the demo ({residents} residents); {runs} runs each, a new "
                  f"browser context per run; H5 throttled {FAST_3G['downloadThroughput'] * 8 / 1000:.1f} kbps, "
                  f"{FAST_3G['latency']} ms latency")
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                rows = [await one_load(browser, running.url, sessions["doctor.wang"], "console",
                                       "[data-testid=menu] >> text=首页", False) for _ in range(runs)]
                print(summary("console (doctor.wang), to a usable shell", rows))
                rows = [await one_load(browser, running.url, sessions["resident.zhang"], "h5",
                                       "[data-testid=tabbar]", True) for _ in range(runs)]
                print(summary("h5 (resident.zhang) on fast 3G, to the tab bar", rows))
                await browser.close()
        finally:
            await running.stop()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--residents", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.residents))


if __name__ == "__main__":
    cli()
