"""The API the console's supervision and account screens need: alert detail with its consultation context, the
alert filters and bell link, audit filters, and staff account listing and creation (audited)."""

from __future__ import annotations

from typing import Any

from hub.ids import new_id, now
from tests.support import Client, RunningHub, api, token_for
from tests.test_supervision import add_word
from tests.test_ws import pair

COUNTY = "330522000000"


async def institution_with_admin(hub: RunningHub, name: str = "测试卫生院") -> tuple[dict[str, Any], dict[str, Any]]:
    institution = {"_id": new_id(), "name": name, "kind": "卫生院", "region": "330522100000", "address": "",
                   "phone": "", "created_at": now()}
    await hub.hub.db.institutions.insert_one(institution)
    admin = await hub.hub.accounts.create_user(username=f"admin.{institution['_id']}", password="demo1234",
                                               role="admin", name="机构管理员", region=institution["region"],
                                               institution_id=institution["_id"])
    admin["token"] = token_for(hub, admin)
    return institution, admin


async def test_alert_detail_with_context_link_and_word_filter(hub: RunningHub) -> None:
    await add_word(hub, "代开发票", "alert", "广告")
    await add_word(hub, "枪支", "alert", "涉枪")
    conv, resident, _ = await pair(hub)
    supervisor = await Client.connect(hub.ws_url, hub.users["supervisor"]["token"])
    assert (await resident.say(conv, "你好医生"))["screen"] == {"action": "pass"}
    ack = await resident.say(conv, "可以代开发票吗")
    notice = await supervisor.expect("notice")
    alert_id = notice["data"]["alert"]["id"]
    assert notice["data"]["links"] == {"console": f"/supervision/alerts?id={alert_id}"}
    await resident.say(conv, "买枪支")
    token = hub.users["supervisor"]["token"]
    _, found = await api(hub.url, "GET", "/api/alerts?word=发票", token)
    assert [a["id"] for a in found["items"]] == [alert_id]
    _, found = await api(hub.url, "GET", "/api/alerts?word=没有这个词", token)
    assert found["items"] == []
    status, detail = await api(hub.url, "GET", f"/api/alerts/{alert_id}", token)
    assert status == 200 and detail["where"] == {"conv": conv, "seq": ack["seq"]}
    assert detail["region_name"] == ""  # no stored name for the test region
    context = detail["context"]
    assert context["conversation"]["id"] == conv
    assert context["conversation"]["resident"]["id"] == hub.users["resident"]["_id"]
    assert [m["text"] for m in context["messages"]][:2] == ["你好医生", "可以代开发票吗"]
    status, other = await api(hub.url, "GET", f"/api/alerts/{alert_id}", hub.users["supervisor_other"]["token"])
    assert status == 404 and other["error"]["code"] == "not_found"
    status, _ = await api(hub.url, "GET", f"/api/alerts/{alert_id}", hub.users["doctor"]["token"])
    assert status == 403
    _, audit = await api(hub.url, "GET", "/api/audit?action=alert.view", token)
    assert audit["items"][0]["target"] == alert_id
    status, bad = await api(hub.url, "GET", "/api/alerts?word=" + "x" * 51, token)
    assert status == 400 and bad["error"]["code"] == "invalid_input"


async def test_blocked_message_alert_shows_the_conversation_before_it(hub: RunningHub) -> None:
    await add_word(hub, "违禁品", "block", "违法")
    conv, resident, _ = await pair(hub)
    await resident.say(conv, "第一句")
    assert (await resident.say(conv, "卖违禁品"))["code"] == "content_blocked"
    _, alerts = await api(hub.url, "GET", "/api/alerts", hub.users["sysadmin"]["token"])
    status, detail = await api(hub.url, "GET", f"/api/alerts/{alerts['items'][0]['id']}",
                               hub.users["sysadmin"]["token"])
    assert status == 200 and [m["text"] for m in detail["context"]["messages"]] == ["第一句"]


async def test_audit_filters_by_target_action_prefix_and_actor_name(hub: RunningHub) -> None:
    word = await add_word(hub, "测试词", "mask")
    token = hub.users["supervisor"]["token"]
    await api(hub.url, "PATCH", f"/api/sensitive-words/{word['id']}", token, {"enabled": False})
    _, page = await api(hub.url, "GET", f"/api/audit?target={word['id']}", token)
    assert [e["action"] for e in page["items"]] == ["sensitive_word.update", "sensitive_word.create"]
    _, page = await api(hub.url, "GET", "/api/audit?action=sensitive_word.", token)
    assert {e["action"] for e in page["items"]} == {"sensitive_word.update", "sensitive_word.create"}
    _, page = await api(hub.url, "GET", "/api/audit?actor_name=supervisor", token)
    assert len(page["items"]) == 2
    _, page = await api(hub.url, "GET", "/api/audit?actor_name=nobody", token)
    assert page["items"] == []
    status, _ = await api(hub.url, "GET", "/api/audit?target=", token)
    assert status == 200


async def test_sysadmin_creates_lists_and_admin_sees_only_own_institution(hub: RunningHub) -> None:
    institution, admin = await institution_with_admin(hub)
    other_institution, _ = await institution_with_admin(hub, "别的卫生院")
    sysadmin = hub.users["sysadmin"]["token"]
    status, options = await api(hub.url, "GET", "/api/accounts/options", sysadmin)
    assert status == 200 and "supervisor" in options["roles"]
    assert {i["id"] for i in options["institutions"]} == {institution["_id"], other_institution["_id"]}
    status, created = await api(hub.url, "POST", "/api/accounts", sysadmin, {
        "role": "doctor", "username": "doc.new", "password": "password1", "name": "新医生",
        "institution_id": institution["_id"]})
    assert status == 201, created
    assert created["institution_name"] == "测试卫生院" and created["disabled"] is False
    status, elsewhere = await api(hub.url, "POST", "/api/accounts", admin["token"], {
        "role": "doctor", "username": "doc.else", "password": "password1", "name": "别处医生",
        "institution_id": other_institution["_id"]})
    assert status == 403, elsewhere
    status, refused = await api(hub.url, "POST", "/api/accounts", admin["token"], {
        "role": "supervisor", "username": "sup.x", "password": "password1", "name": "监督"})
    assert status == 400 and refused["error"]["details"]["field"] == "role"
    status, own = await api(hub.url, "POST", "/api/accounts", admin["token"], {
        "role": "assistant", "username": "assist.own", "password": "password1", "name": "助理"})
    assert status == 201 and own["institution_id"] == institution["_id"]
    _, listed = await api(hub.url, "GET", "/api/accounts", admin["token"])
    assert {a["username"] for a in listed["items"]} == {"doc.new", "assist.own"}
    _, listed = await api(hub.url, "GET", "/api/accounts?q=新医", sysadmin)
    assert [a["username"] for a in listed["items"]] == ["doc.new"]
    region = hub.users["supervisor"]["region"]
    await hub.hub.db.regions.insert_one({"_id": region, "name": "测试县"})
    _, listed = await api(hub.url, "GET", "/api/accounts?role=supervisor", sysadmin)
    assert {a["username"] for a in listed["items"]} == {"supervisor", "supervisor_other"}
    names = {a["username"]: a["region_name"] for a in listed["items"]}
    assert names["supervisor"] == "测试县" and created["region_name"] == ""  # a region without a stored name
    status, _ = await api(hub.url, "POST", f"/api/accounts/{created['id']}/disable", admin["token"], {})
    assert status == 200
    _, listed = await api(hub.url, "GET", "/api/accounts?disabled=true", sysadmin)
    assert [a["username"] for a in listed["items"]] == ["doc.new"]
    _, audit = await api(hub.url, "GET", "/api/audit?action=account.", hub.users["supervisor"]["token"])
    assert {(e["action"], e["target"]) for e in audit["items"]} >= {
        ("account.create", created["id"]), ("account.create", own["id"]), ("account.disable", created["id"])}


async def test_account_screens_refused_to_others(hub: RunningHub) -> None:
    for who in ("supervisor", "doctor", "resident"):
        token = hub.users[who]["token"]
        assert (await api(hub.url, "GET", "/api/accounts", token))[0] == 403
        assert (await api(hub.url, "GET", "/api/accounts/options", token))[0] == 403
        status, _ = await api(hub.url, "POST", "/api/accounts", token, {
            "role": "doctor", "username": "x.y", "password": "password1", "name": "某某"})
        assert status == 403
    status, bad = await api(hub.url, "POST", "/api/accounts", hub.users["sysadmin"]["token"], {
        "role": "doctor", "username": "x y", "password": "password1", "name": "某某"})
    assert status == 400 and bad["error"]["details"]["field"] == "username"
    assert await hub.hub.db.users.count_documents({"username": {"$in": ["x.y", "x y"]}}) == 0
