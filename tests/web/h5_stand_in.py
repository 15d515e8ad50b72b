"""A stand-in for the H5 shell (``static/h5/index.html``, branch h9-shell) while it has not landed: one page that
mounts a page module the way the web-client contract says (Vue 3 + Vant 4, ``hub`` injected with ``rest``,
``user``, ``route``, ``go``, ``notify``, ``socket``), served by Playwright from the hub's own origin so the page's
REST calls reach the real hub. Replace with the shell's fixtures (``tests/web/conftest.py``) once merged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Route

ROOT = Path(__file__).parents[2]
PREFIX = "/__h5_stand_in__/"
PAGES = {"/home": "h5/home.js", "/family": "h5/family.js", "/signing/apply": "h5/apply.js",
         "/doctor/mine": "h5/doctor_mine.js", "/doctor/detail": "h5/doctor_detail.js", "/residents": "h5/residents.js",
         "/doctor/review": "h5/review.js", "/doctor/sign": "h5/sign.js", "/doctor/pick": "h5/pick.js",
         "/doctor/signings": "h5/signings.js"}
VIEWPORT = {"width": 375, "height": 812}

SHELL = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="stylesheet" href="PREFIXvendor/vant-4.10.2/lib/index.css">
<script src="PREFIXvendor/vue-3.5.45/dist/vue.global.prod.js"></script>
<script src="PREFIXvendor/vant-4.10.2/lib/vant.min.js"></script>
<style>body{margin:0;background:#f7f8fa}</style></head><body><div id="app"></div>
<script type="module">
const boot = JSON.parse(sessionStorage.getItem("stand_in"));
async function call(method, path, body) {
  const reply = await fetch(path, {method, headers: {"Authorization": "Bearer " + boot.token,
    "Content-Type": "application/json"}, body: body === undefined ? undefined : JSON.stringify(body)});
  const data = await reply.json();
  if (!reply.ok) throw Object.assign(new Error(data.error.message), {status: reply.status, code: data.error.code});
  return data;
}
const rest = {get: (p) => call("GET", p), post: (p, b) => call("POST", p, b), put: (p, b) => call("PUT", p, b),
              patch: (p, b) => call("PATCH", p, b), delete: (p) => call("DELETE", p)};
const route = Vue.reactive({path: "", query: {}});
function parse() {
  const [path, query] = (location.hash.slice(1) || "/home").split("?");
  route.path = path; route.query = Object.fromEntries(new URLSearchParams(query || ""));
}
parse(); window.addEventListener("hashchange", parse);
const hub = {rest, user: boot.user, route, socket: {on() {}, off() {}},
  go(path, query) { location.hash = path + (query ? "?" + new URLSearchParams(query) : ""); },
  notify: {success: (m) => vant.showToast({message: m, type: "success"}),
           error: (m) => vant.showToast({message: m, type: "fail"})}};
const App = {
  setup() {
    const page = Vue.shallowRef(null), title = Vue.ref("");
    Vue.watchEffect(async () => {
      const found = await import(boot.pages[route.path]);
      title.value = found.default.title; page.value = Vue.markRaw(found.default.component);
    });
    return {page, title, route};
  },
  template: `<van-nav-bar :title="title" />
    <component v-if="page" :is="page" :key="route.path + JSON.stringify(route.query)" />`,
};
Vue.createApp(App).provide("hub", hub).use(vant).mount("#app");
</script></body></html>""".replace("PREFIX", PREFIX)


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("HUB_SCREENSHOTS") or "/tmp/hub-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def serve(route: Route) -> None:
    rel = route.request.url.split(PREFIX, 1)[1].split("?")[0]
    if rel == "index.html":
        await route.fulfill(body=SHELL, content_type="text/html; charset=utf-8")
        return
    base = ROOT / "static" if rel.startswith("vendor/") else ROOT / "plugins" / "signing" / "static"
    path = (base / rel).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        await route.fulfill(status=404, body="")
        return
    kind = {".css": "text/css", ".js": "application/javascript"}.get(path.suffix, "application/octet-stream")
    await route.fulfill(body=path.read_bytes(), content_type=kind + "; charset=utf-8")


async def launch(playwright: Any) -> Browser:
    return await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])


async def open_h5(browser: Browser, base_url: str, token: str, user: dict[str, Any], errors: list[str]) -> Page:
    """A 375×812 page logged in as ``user`` (a minted token), collecting console errors into ``errors``."""
    page = await browser.new_page(viewport=VIEWPORT)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.route(f"**{PREFIX}**", serve)
    boot = {"token": token, "user": user, "pages": {p: PREFIX + m for p, m in PAGES.items()}}
    await page.add_init_script(f"sessionStorage.setItem('stand_in', {json.dumps(json.dumps(boot))})")
    await page.goto(f"{base_url}{PREFIX}index.html#/home")
    return page


async def go(page: Page, base_url: str, path: str) -> None:
    await page.goto(f"{base_url}{PREFIX}index.html#{path}")


async def shoot(page: Page, name: str) -> Path:
    path = screenshot_dir() / f"h5-signing-{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
