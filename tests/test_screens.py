"""Screen slots: ``register_screens`` declarations, ``GET /api/screens`` by role, the plugins' static files, the
shells' pages and their CSP, the inbox list and the caller's scope."""

from __future__ import annotations

from pathlib import Path

import pytest
import tornado.httpclient

from handlers.security import PAGE_POLICY, SHELL_POLICY
from hub import Page, Screens
from hub.errors import ConfigError
from hub.screens import ScreenTable
from tests.conftest import add_users
from tests.support import api

GREETER = {"signing": False, "example_greeter": True}


async def fetch(url: str) -> tornado.httpclient.HTTPResponse:
    return await tornado.httpclient.AsyncHTTPClient().fetch(url, raise_error=False)


def table(tmp_path: Path, *pages: Page) -> ScreenTable:
    for page in pages:
        (tmp_path / page.module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page.module).write_text("export default {};")
    return ScreenTable([("signing", Screens(tmp_path, pages))])


def paths(found: list[dict]) -> list[str]:
    return [p["path"] for p in found]


def test_pages_are_filtered_by_role_and_sorted_by_menu_and_order(tmp_path: Path) -> None:
    screens = table(
        tmp_path,
        Page("console", "/signing/sign", "录入签约", "console/sign.js", ("doctor", "team_leader"), menu="签约中心",
             order=30),
        Page("console", "/signing/review", "签约审核", "console/review.js", ("doctor", "team_leader"),
             menu="签约中心", order=10),
        Page("console", "/signing/overview", "签约监管", "console/overview.js", ("supervisor", "sysadmin"),
             menu="监管中心", order=5),
        Page("h5", "/family", "家庭", "h5/family.js", ("resident",), menu="tab"),
    )
    doctor = screens.visible("console", "doctor", "http://h")
    assert paths(doctor) == ["/me/password", "/signing/review", "/signing/sign"]  # 个人中心 < 签约中心 (code points)
    assert doctor[1] == {"plugin": "signing", "path": "/signing/review", "title": "签约审核", "menu": "签约中心",
                         "order": 10, "module": "http://h/plugins/signing/static/console/review.js"}
    supervisor = paths(screens.visible("console", "supervisor", "http://h"))
    assert "/signing/overview" in supervisor and "/signing/sign" not in supervisor
    assert screens.visible("console", "resident", "http://h") == []  # a resident never sees a console page
    assert paths(screens.visible("h5", "resident", "http://h")) == ["/me", "/family"]  # order 90, then 100
    assert paths(screens.visible("h5", "doctor", "http://h")) == ["/me"]
    assert screens.known("console", "/signing/overview") and not screens.known("console", "/nowhere")


@pytest.mark.parametrize(("page", "problem"), [
    (Page("pc", "/a", "A", "a.js", ("doctor",)), "app"),
    (Page("console", "a", "A", "a.js", ("doctor",)), "path"),
    (Page("console", "/a", "A", "../a.js", ("doctor",)), "module"),
    (Page("console", "/a", "A", "a.js", ("nurse",)), "roles"),
    (Page("console", "/a", "A", "a.js", "doctor"), "roles"),  # type: ignore[arg-type]
    (Page("h5", "/a", "A", "a.js", ("doctor",), menu="签约"), "menu"),
])
def test_a_malformed_page_fails_start_up_naming_the_plugin(tmp_path: Path, page: Page, problem: str) -> None:
    (tmp_path / "a.js").write_text("")
    with pytest.raises(ConfigError, match=f"'signing'.*{problem}"):
        ScreenTable([("signing", Screens(tmp_path, (page,)))])


def test_a_page_declared_twice_or_not_a_screens_fails(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("")
    page = Page("console", "/a", "A", "a.js", ("doctor",))
    with pytest.raises(ConfigError, match="declared by 'one'"):
        ScreenTable([("one", Screens(tmp_path, (page,))), ("two", Screens(tmp_path, (page,)))])
    with pytest.raises(ConfigError, match=r"must return hub\.Screens"):
        ScreenTable([("one", [page])])


def test_a_page_without_its_module_is_left_out(tmp_path: Path) -> None:
    screens = ScreenTable([("one", Screens(tmp_path, (Page("console", "/a", "A", "a.js", ("doctor",)),)))])
    assert not screens.known("console", "/a")


async def test_api_screens_by_role_with_the_example_plugins_page(make_hub) -> None:
    running = await make_hub(plugins=GREETER)
    users = await add_users(running)
    status, data = await api(running.url, "GET", "/api/screens?app=console", users["doctor"]["token"])
    assert status == 200
    greet = next(p for p in data["pages"] if p["path"] == "/greeter/send")
    assert greet == {"plugin": "example_greeter", "path": "/greeter/send", "title": "问候", "menu": "示例",
                     "order": 10, "module": f"{running.url}/plugins/example_greeter/static/console/greet.js"}
    module = await fetch(greet["module"])
    assert module.code == 200 and module.headers["Content-Type"].startswith(("application/javascript",
                                                                             "text/javascript"))
    assert b"export default" in module.body
    status, data = await api(running.url, "GET", "/api/screens?app=console", users["supervisor"]["token"])
    assert "/greeter/send" not in paths(data["pages"]) and "/me/password" in paths(data["pages"])
    status, data = await api(running.url, "GET", "/api/screens?app=console", users["resident"]["token"])
    assert (status, data) == (200, {"pages": []})
    status, data = await api(running.url, "GET", "/api/screens?app=h5", users["resident"]["token"])
    assert paths(data["pages"]) == ["/me"]
    assert data["pages"][0]["module"] == f"{running.url}/static/h5/pages/me.js"
    status, data = await api(running.url, "GET", "/api/screens/known?app=console&path=/greeter/send",
                             users["resident"]["token"])
    assert (status, data) == (200, {"known": True})


async def test_api_screens_needs_a_login_and_a_known_app(make_hub) -> None:
    running = await make_hub(plugins=GREETER)
    users = await add_users(running)
    assert (await api(running.url, "GET", "/api/screens?app=console"))[0] == 401
    assert (await api(running.url, "GET", "/api/screens?app=console", "forged.token.here"))[0] == 401
    status, data = await api(running.url, "GET", "/api/screens?app=pc", users["doctor"]["token"])
    assert status == 400 and data["error"]["code"] == "invalid_input"
    assert (await api(running.url, "GET", "/api/screens", users["doctor"]["token"]))[0] == 400


async def test_plugin_static_files_stay_inside_their_folder(make_hub) -> None:
    running = await make_hub(plugins=GREETER)
    for path in ("/plugins/example_greeter/static/../__init__.py", "/plugins/example_greeter/static/%2e%2e/__init__.py",
                 "/plugins/example_greeter/static/nothing.js", "/plugins/signing/static/console/x.js"):
        response = await fetch(running.url + path)
        assert response.code in (403, 404), path


async def test_shells_are_served_with_their_policy(make_hub) -> None:
    running = await make_hub()
    for path in ("/console", "/h5"):
        response = await fetch(running.url + path)
        assert response.code == 200 and response.headers["Content-Type"].startswith("text/html")
        assert response.headers["Content-Security-Policy"] == SHELL_POLICY
        assert "'unsafe-eval'" in SHELL_POLICY and "<script>" not in response.body.decode()
    chat = await fetch(running.url + "/")
    assert chat.headers["Content-Security-Policy"] == PAGE_POLICY and "'unsafe-eval'" not in PAGE_POLICY
    assert "img-src 'self' blob: data:" in PAGE_POLICY
    script = await fetch(running.url + "/static/console/shell.js")
    assert script.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_inbox_lists_the_callers_own_notices_newest_first(hub) -> None:
    users = hub.users
    for n in range(3):
        await hub.hub.notices.notify([users["doctor"]["_id"]], kind="system", title=f"通知{n}", body="b")
    await hub.hub.notices.notify([users["resident"]["_id"]], kind="system", title="别人的", body="b")
    status, data = await api(hub.url, "GET", "/api/notices?limit=2", users["doctor"]["token"])
    assert status == 200 and [n["title"] for n in data["items"]] == ["通知2", "通知1"]
    assert set(data["items"][0]) == {"type", "inbox", "kind", "title", "body", "data", "ts"}
    before = data["items"][-1]["inbox"]
    status, data = await api(hub.url, "GET", f"/api/notices?before={before}", users["doctor"]["token"])
    assert [n["title"] for n in data["items"]] == ["通知0"]
    assert (await api(hub.url, "GET", "/api/notices?limit=0", users["doctor"]["token"]))[0] == 400


async def test_me_gives_the_scope_by_name(hub) -> None:
    db = hub.hub.db
    await db.regions.insert_one({"_id": "330522100000", "name": "测试镇", "level": 4})
    await db.institutions.insert_one({"_id": "inst1", "name": "测试卫生院"})
    await db.teams.insert_one({"_id": "team1", "name": "一团队"})
    await db.users.update_one({"_id": hub.users["doctor"]["_id"]},
                              {"$set": {"institution_id": "inst1", "team_id": "team1"}})
    status, me = await api(hub.url, "GET", "/api/me", hub.users["doctor"]["token"])
    assert status == 200 and me["scope"] == {"region": "330522100000", "region_name": "测试镇",
                                             "institution": "inst1", "institution_name": "测试卫生院",
                                             "team": "team1", "team_name": "一团队"}
