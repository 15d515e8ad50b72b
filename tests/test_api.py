"""REST conventions of PROTOCOL.md: auth, consultations, errors, lists, healthz, OpenAPI and the audit trail."""

from __future__ import annotations

import asyncio

import pytest

from hub.embedded import free_port
from hub.errors import InvalidInput
from hub.store import connect
from tests.support import PASSWORD, Client, RunningHub, api, eventually, login, token_for
from tests.test_ws import open_consultation


async def test_login_returns_bearer_token_for_username_and_resident_phone(hub: RunningHub) -> None:
    status, data = await api(hub.url, "POST", "/api/auth/token", body={"username": "doctor", "password": PASSWORD})
    assert status == 200
    assert data["token_type"] == "bearer" and data["expires_in"] > 0
    assert data["user"] == {"id": hub.users["doctor"]["_id"], "role": "doctor", "name": "测试doctor"}
    status, data = await api(hub.url, "POST", "/api/auth/token",
                             body={"username": "13900000001", "password": PASSWORD})
    assert status == 200 and data["user"]["id"] == hub.users["resident"]["_id"]
    status, me = await api(hub.url, "GET", "/api/me", data["access_token"])
    assert status == 200 and me["id"] == hub.users["resident"]["_id"]


async def test_a_profile_without_a_password_cannot_log_in(hub: RunningHub) -> None:
    profile = await hub.hub.accounts.create_user(username="nurse.on.record", password=None, role="assistant",
                                                 name="记录在册的护士")
    for password in ("", "!no-login", PASSWORD, "x" * 8):
        status, data = await api(hub.url, "POST", "/api/auth/token",
                                 body={"username": "nurse.on.record", "password": password})
        assert status in (400, 401) and data["error"]["code"] in ("invalid_input", "invalid_credentials"), password
    assert profile["password_hash"] == (await hub.hub.accounts.get_user(profile["_id"]))["password_hash"]
    with pytest.raises(InvalidInput):
        await hub.hub.accounts.create_user(username="short", password="1234567", role="assistant", name="短密码")


async def test_wrong_password_then_throttled(make_hub) -> None:
    running = await make_hub(login_max_failures=3)
    await running.hub.accounts.create_user(username="d9", password=PASSWORD, role="doctor", name="医生九")
    for _ in range(3):
        status, data = await api(running.url, "POST", "/api/auth/token", body={"username": "d9", "password": "bad"})
        assert status == 401 and data["error"]["code"] == "invalid_credentials"
    status, data = await api(running.url, "POST", "/api/auth/token", body={"username": "d9", "password": PASSWORD})
    assert status == 429 and data["error"]["code"] == "too_many_attempts"
    status, data = await api(running.url, "POST", "/api/auth/token", body={"username": "nobody", "password": "x"})
    assert status == 401


async def test_passwords_are_stored_as_argon2id(hub: RunningHub) -> None:
    user = await hub.hub.db.users.find_one({"username": "doctor"})
    assert user["password_hash"].startswith("$argon2id$") and PASSWORD not in user["password_hash"]


async def test_bad_requests_get_codes_and_change_nothing(hub: RunningHub) -> None:
    token = hub.users["resident"]["token"]
    cases = [
        ("POST", "/api/auth/token", b"{bad", None, 400, "invalid_json"),
        ("POST", "/api/auth/token", b"[1]", None, 400, "invalid_json"),
        ("POST", "/api/auth/token", b'{"username": 5, "password": "x"}', None, 400, "invalid_input"),
        ("POST", "/api/consultations", b'{"doctor_id": 7}', token, 400, "invalid_input"),
        ("POST", "/api/consultations", b'{"doctor_id": "no-such-doctor"}', token, 404, "not_found"),
        ("GET", "/api/consultations?limit=0", None, token, 400, "invalid_input"),
        ("GET", "/api/consultations?limit=201", None, token, 400, "invalid_input"),
        ("GET", "/api/consultations?limit=abc", None, token, 400, "invalid_input"),
        ("GET", "/api/consultations?status=weird", None, token, 400, "invalid_input"),
        ("GET", "/api/consultations?cursor=%%%", None, token, 400, "invalid_input"),
        ("GET", "/api/consultations/unknown", None, token, 404, "not_found"),
        ("GET", "/api/consultations", None, "forged.token.here", 401, "unauthorized"),
        ("GET", "/api/consultations", None, None, 401, "unauthorized"),
        ("GET", "/api/nothing-here", None, token, 404, "not_found"),
    ]
    for method, path, raw, tok, status, code in cases:
        got, data = await api(hub.url, method, path, tok, raw=raw)
        assert isinstance(data, dict) and "error" in data, (method, path, got, data)
        assert (got, data["error"]["code"]) == (status, code), (method, path, data)
        assert data["error"]["message"] and "Traceback" not in str(data)
    assert await hub.hub.db.conversations.count_documents({}) == 0


async def test_consultation_needs_a_plugin_yes(hub: RunningHub) -> None:
    status, data = await api(hub.url, "POST", "/api/consultations", hub.users["resident"]["token"],
                             {"doctor_id": hub.users["doctor2"]["_id"]})
    assert status == 403 and data["error"]["code"] == "forbidden"
    status, data = await api(hub.url, "POST", "/api/consultations", hub.users["doctor"]["token"],
                             {"doctor_id": hub.users["doctor2"]["_id"]})
    assert status == 403


async def test_no_plugin_means_no_consultation(make_hub) -> None:
    from tests.conftest import add_users
    running = await make_hub(plugin_modules=[])
    users = await add_users(running)
    status, _data = await api(running.url, "POST", "/api/consultations", users["resident"]["token"],
                             {"doctor_id": users["doctor"]["_id"]})
    assert status == 403
    status, data = await api(running.url, "GET", "/api/consultations/doctors", users["resident"]["token"])
    assert (status, data) == (200, {"items": [], "next_cursor": None})


async def test_resident_lists_exactly_the_doctors_they_may_consult(hub: RunningHub) -> None:
    """Each item is the public profile only; every listed doctor can be consulted with one request."""
    users = hub.users
    await hub.hub.db.users.update_one({"_id": users["doctor"]["_id"]}, {"$set": {
        "phone": "13900000009", "id_number": "330522196004010017", "title": "主治医师", "work_type": "全科医生",
        "profile": "擅长高血压、糖尿病管理"}})
    status, data = await api(hub.url, "GET", "/api/consultations/doctors", users["resident"]["token"])
    assert status == 200
    assert data == {"items": [{"id": users["doctor"]["_id"], "name": "测试doctor", "role": "doctor",
                               "title": "主治医师", "work_type": "全科医生", "profile": "擅长高血压、糖尿病管理"}],
                    "next_cursor": None}
    status, data = await api(hub.url, "GET", "/api/consultations/doctors", users["resident2"]["token"])
    assert [d["id"] for d in data["items"]] == [users["doctor2"]["_id"]]
    assert data["items"][0]["title"] == ""  # a profile field the account lacks is empty, never missing
    status, data = await api(hub.url, "GET", "/api/consultations/doctors", users["stranger"]["token"])
    assert (status, data["items"]) == (200, [])
    for resident, doctor in (("resident", "doctor"), ("resident2", "doctor2")):
        status, conv = await api(hub.url, "POST", "/api/consultations", users[resident]["token"],
                                 {"doctor_id": users[doctor]["_id"]})
        assert status == 201 and conv["doctor"]["id"] == users[doctor]["_id"]


async def test_doctor_directory_is_for_residents_only(hub: RunningHub) -> None:
    for who in ("doctor", "supervisor", "sysadmin"):
        status, data = await api(hub.url, "GET", "/api/consultations/doctors", hub.users[who]["token"])
        assert status == 403 and data["error"]["code"] == "forbidden" and data["error"]["message"], (who, data)
    for token in (None, "forged.token.here"):
        status, data = await api(hub.url, "GET", "/api/consultations/doctors", token)
        assert status == 401 and data["error"]["code"] == "unauthorized"


async def test_doctor_directory_agrees_with_can_consult(make_hub) -> None:
    """A doctor a plugin lists is left out when another plugin vetoes them, when the account is not consulting
    staff, disabled or unknown; the rest keep the plugins' order, once each."""
    from tests.conftest import add_users
    running = await make_hub(plugin_modules=["tests.plugins.consult_allow", "tests.plugins.consult_veto"])
    users = await add_users(running)
    vetoed, disabled = [await running.hub.accounts.create_user(username=name, password=PASSWORD, role="doctor",
                                                               name=name) for name in ("vetoed", "disabled")]
    await running.hub.db.users.update_one({"_id": disabled["_id"]}, {"$set": {"disabled": True}})
    listed = [users["doctor2"]["_id"], users["supervisor"]["_id"], "no-such-user", vetoed["_id"], disabled["_id"],
              users["doctor"]["_id"], users["doctor2"]["_id"]]
    await running.hub.db.users.update_one({"_id": users["resident"]["_id"]},
                                          {"$set": {"test_doctors": listed, "test_vetoed": [vetoed["_id"]]}})
    token = users["resident"]["token"]
    status, data = await api(running.url, "GET", "/api/consultations/doctors", token)
    assert status == 200
    assert [d["id"] for d in data["items"]] == [users["doctor2"]["_id"], users["doctor"]["_id"]]
    status, _ = await api(running.url, "POST", "/api/consultations", token, {"doctor_id": vetoed["_id"]})
    assert status == 403  # the veto that kept the doctor off the list


async def test_reopening_returns_the_open_one_and_lists_with_unread(hub: RunningHub) -> None:
    users = hub.users
    first = await open_consultation(hub)
    status, again = await api(hub.url, "POST", "/api/consultations", users["resident"]["token"],
                              {"doctor_id": users["doctor"]["_id"]})
    assert status == 200 and again["id"] == first
    resident = await Client.connect(hub.ws_url, users["resident"]["token"])
    for text in ("头晕", "还有点恶心"):
        await resident.say(first, text)
    status, listed = await eventually(
        lambda: api(hub.url, "GET", "/api/consultations?status=open", users["doctor"]["token"]),
        lambda reply: reply[1]["items"][0]["unread"] == 2)
    item = listed["items"][0]
    assert item["id"] == first and item["unread"] == 2 and item["last_message"]["text"] == "还有点恶心"
    assert listed["next_cursor"] is None
    status, mine = await api(hub.url, "GET", "/api/consultations", users["resident"]["token"])
    assert mine["items"][0]["unread"] == 0
    status, others = await api(hub.url, "GET", "/api/consultations", users["doctor2"]["token"])
    assert others["items"] == []


async def test_end_consultation_by_doctor_only(hub: RunningHub) -> None:
    users = hub.users
    conv = await open_consultation(hub)
    resident = await Client.connect(hub.ws_url, users["resident"]["token"])
    status, data = await api(hub.url, "POST", f"/api/consultations/{conv}/end", users["resident"]["token"])
    assert status == 403
    status, data = await api(hub.url, "POST", f"/api/consultations/{conv}/end", users["doctor"]["token"])
    assert status == 200 and data["status"] == "ended"
    frame = await resident.expect("conv")
    assert frame == {"type": "conv", "conv": conv, "status": "ended", "by": users["doctor"]["_id"]}
    assert (await resident.say(conv, "还在吗"))["code"] == "conversation_closed"
    status, ended = await api(hub.url, "GET", "/api/consultations?status=ended", users["resident"]["token"])
    assert [c["id"] for c in ended["items"]] == [conv]
    status, reopened = await api(hub.url, "POST", "/api/consultations", users["resident"]["token"],
                                 {"doctor_id": users["doctor"]["_id"]})
    assert status == 201 and reopened["id"] != conv


async def test_messages_paging(hub: RunningHub) -> None:
    conv = await open_consultation(hub)
    resident = await Client.connect(hub.ws_url, hub.users["resident"]["token"])
    for i in range(7):
        await resident.say(conv, f"m{i}")
    token = hub.users["doctor"]["token"]
    _, page = await api(hub.url, "GET", f"/api/consultations/{conv}/messages?after_seq=2&limit=3", token)
    assert [m["seq"] for m in page["items"]] == [3, 4, 5]
    _, page = await api(hub.url, "GET", f"/api/consultations/{conv}/messages?limit=3&cursor={page['next_cursor']}",
                        token)
    assert [m["seq"] for m in page["items"]] == [6, 7]
    assert page["next_cursor"] is None
    _, page = await api(hub.url, "GET", f"/api/consultations/{conv}/messages?before_seq=7&limit=2", token)
    assert [m["seq"] for m in page["items"]] == [5, 6]
    status, page = await api(hub.url, "GET", f"/api/consultations/{conv}/messages?after_seq=5&before_seq=3", token)
    assert status == 400


async def test_list_paging_with_cursor(hub: RunningHub) -> None:
    for i in range(5):
        await hub.hub.accounts.create_user(username=f"page{i}", password=PASSWORD, role="doctor", name=f"翻页{i}")
    for username in hub.users:  # each login is audited: entries to page through
        await login(hub.url, username)
    token = await login(hub.url, "sysadmin")
    seen: list[str] = []
    cursor = ""
    while True:
        status, page = await api(hub.url, "GET", f"/api/audit?limit=2&cursor={cursor}", token)
        assert status == 200 and len(page["items"]) <= 2
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 9  # every login of the cast, each once


async def test_audit_records_state_changes_and_is_for_supervisors(hub: RunningHub) -> None:
    users = hub.users
    conv = await open_consultation(hub)
    status, page = await api(hub.url, "GET", "/api/audit?action=consultation.open", users["sysadmin"]["token"])
    entry = page["items"][0]
    assert entry["actor"] == users["resident"]["_id"] and entry["target"] == conv
    assert entry["address"] == "127.0.0.1" and entry["at"]
    for who in ("resident", "doctor"):
        status, _ = await api(hub.url, "GET", "/api/audit", users[who]["token"])
        assert status == 403
    status, page = await api(hub.url, "GET", "/api/audit?action=consultation.open",
                             users["supervisor_other"]["token"])
    assert status == 200 and page["items"] == []  # another county's supervisor sees nothing of ours
    status, page = await api(hub.url, "GET", "/api/audit?since=not-a-time", users["sysadmin"]["token"])
    assert status == 400


async def test_healthz(hub: RunningHub) -> None:
    status, data = await api(hub.url, "GET", "/healthz")
    assert status == 200 and data["mongo"] is True


async def test_healthz_503_when_database_unreachable(make_hub) -> None:
    running = await make_hub()
    real = running.hub.client
    running.hub.client = connect(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    try:
        status, data = await api(running.url, "GET", "/healthz")
        assert status == 503 and data["mongo"] is False
    finally:
        await running.hub.client.close()
        running.hub.client = real


async def test_openapi_covers_every_api_route(hub: RunningHub) -> None:
    status, doc = await api(hub.url, "GET", "/api/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    for path in ("/api/auth/token", "/api/consultations", "/api/consultations/doctors",
                 "/api/consultations/{id}/messages",
                 "/api/sensitive-words", "/api/sensitive-words/{id}", "/api/alerts", "/api/alerts/{id}/resolve",
                 "/api/audit", "/healthz"):
        assert path in doc["paths"], path
    assert "post" in doc["paths"]["/api/consultations"] and "get" in doc["paths"]["/api/consultations"]
    assert doc["paths"]["/api/consultations/{id}/end"]["post"]["summary"]
    imports = doc["paths"]["/api/sensitive-words/import"]["post"]["requestBody"]["content"]
    assert set(imports) == {"text/plain", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert list(doc["paths"]["/api/consultations"]["post"]["requestBody"]["content"]) == ["application/json"]
    directory = doc["paths"]["/api/consultations/doctors"]["get"]
    assert "我的家庭医生" in directory["summary"] and directory["security"] == [{"bearer": []}]


async def test_summaries_catch_up_after_busy_traffic(hub: RunningHub) -> None:
    """Each conversation's last message and head reach its last ack, also when messages arrived while a
    summary write was in flight (they were once left behind until the next message)."""
    doctor = hub.users["doctor"]
    residents = []
    for i in range(12):
        user = await hub.hub.accounts.create_user(username=f"busy{i}", password=PASSWORD, role="resident",
                                                  name=f"居民{i}", test_doctors=[doctor["_id"]])
        token = token_for(hub, user)
        _, conv = await api(hub.url, "POST", "/api/consultations", token, {"doctor_id": doctor["_id"]})
        residents.append((await Client.connect(hub.ws_url, token), conv["id"], user))

    async def chatter(client: Client, conv: str) -> int:
        last = 0
        for i in range(25):
            last = (await client.say(conv, f"第{i}条"))["seq"]
        return last

    lasts = await asyncio.gather(*(chatter(client, conv) for client, conv, _ in residents))
    expected = {conv: last for (_, conv, _), last in zip(residents, lasts, strict=True)}

    async def heads() -> dict[str, int]:
        return {c["_id"]: c["last_seq"] async for c in hub.hub.db.conversations.find({"_id": {"$in": list(expected)}})}

    assert await eventually(heads, lambda got: got == expected) == expected
    _, listed = await api(hub.url, "GET", "/api/consultations?limit=50", doctor["token"])
    assert {c["id"]: c["last_message"]["text"] for c in listed["items"]} == {c: "第24条" for c in expected}
