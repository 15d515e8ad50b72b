"""The embedded default's demo data: the README's logins work, and consultations follow real signings."""

from __future__ import annotations

from typing import Any

from hub.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, describe_logins, seed_demo
from tests.support import Client, RunningHub, api, login

STAFF_LOGINS = {"admin.lin": "admin", "leader.qian": "team_leader", "assistant.sun": "assistant"}


async def test_demo_logins_and_signed_consultations(make_hub) -> None:
    running = await make_hub(plugins={"signing": True, "example_greeter": False}, plugin_modules=[])
    assert await seed_demo(running.hub) is True
    assert await seed_demo(running.hub) is False  # a restart does not seed twice
    tokens = {a["username"]: await login(running.url, a["username"], DEMO_PASSWORD) for a in DEMO_ACCOUNTS}
    users = {a["username"]: (await api(running.url, "GET", "/api/me", tokens[a["username"]]))[1]
             for a in DEMO_ACCOUNTS}
    zhang = tokens["resident.zhang"]
    wang, li = users["doctor.wang"]["id"], users["doctor.li"]["id"]
    status, conv = await api(running.url, "POST", "/api/consultations", zhang, {"doctor_id": wang})
    assert status == 201
    status, _ = await api(running.url, "POST", "/api/consultations", zhang, {"doctor_id": li})
    assert status == 403  # signed with 王医生's team, not 李医生's
    resident = await Client.connect(running.ws_url, zhang)
    assert (await resident.say(conv["id"], "你个傻逼"))["screen"] == {"action": "mask"}
    assert (await resident.say(conv["id"], "法轮功"))["code"] == "content_blocked"
    assert (await resident.say(conv["id"], "我想咨询大法官的体检"))["screen"] == {"action": "pass"}
    status, _ = await api(running.url, "POST", "/api/auth/token", body={"username": "13800000001",
                                                                       "password": DEMO_PASSWORD})
    assert status == 200
    await check_staff_scopes(running, tokens, users)


def test_startup_line_lists_the_staff_logins() -> None:
    line = describe_logins()
    for username, role in STAFF_LOGINS.items():
        assert f"{username} ({role})" in line, username


async def check_staff_scopes(running: RunningHub, tokens: dict[str, str], users: dict[str, Any]) -> None:
    """The institution admin, team leader and assistant demo logins sit in the demo county's real institution and
    teams, and each sees its own scope only."""
    async def get(who: str, path: str) -> Any:
        status, data = await api(running.url, "GET", path, tokens[who])
        assert status == 200, (who, path, data)
        return data

    for username, role in STAFF_LOGINS.items():
        assert users[username]["role"] == role
    team_of = {who: (await get(who, f"/api/signing/doctors/{users[who]['id']}"))["team"]
               for who in ("doctor.wang", "doctor.li", "leader.qian", "assistant.sun")}
    assert team_of["assistant.sun"]["id"] == team_of["doctor.wang"]["id"]  # 王医生's 家庭助理
    assert team_of["leader.qian"]["name"] == "雉城街道家庭医生二团队"
    assert team_of["leader.qian"]["leader_id"] == users["leader.qian"]["id"]
    assert team_of["leader.qian"]["id"] != team_of["doctor.wang"]["id"]
    wang_signing = (await get("doctor.wang", "/api/signing/signings?limit=1"))["items"][0]
    li_signing = (await get("doctor.li", "/api/signing/signings?limit=1"))["items"][0]
    # the institution admin: the two teams of 雉城街道社区卫生服务中心, their signings, nothing of 和平镇卫生院
    teams = (await get("admin.lin", "/api/signing/teams"))["items"]
    assert sorted(t["name"] for t in teams) == ["雉城街道家庭医生一团队", "雉城街道家庭医生二团队"]
    institution = team_of["doctor.wang"]["institution_id"]
    assert {t["institution_id"] for t in teams} == {institution}
    signed = (await get("admin.lin", "/api/signing/signings?limit=200"))["items"]
    assert signed and {s["institution_id"] for s in signed} == {institution}
    assert {s["team_id"] for s in signed} == {t["id"] for t in teams}
    # team staff: their own team's signings and residents only
    for who in ("leader.qian", "assistant.sun"):
        team_id = team_of[who]["id"]
        signed = (await get(who, "/api/signing/signings?limit=200"))["items"]
        assert signed and {s["team_id"] for s in signed} == {team_id}, who
        held = (await get(who, "/api/signing/residents?status=signed&limit=200"))["items"]
        assert held and {r["team_id"] for r in held} == {team_id}, who
    outside = {"admin.lin": li_signing, "leader.qian": wang_signing, "assistant.sun": li_signing}
    for who, signing in outside.items():
        status, _ = await api(running.url, "GET", f"/api/signing/signings/{signing['id']}", tokens[who])
        assert status == 403, who
    for who, team, allowed in (("leader.qian", team_of["leader.qian"], 200),
                               ("leader.qian", team_of["doctor.wang"], 403),
                               ("admin.lin", team_of["doctor.wang"], 200), ("admin.lin", team_of["doctor.li"], 403)):
        status, _ = await api(running.url, "PATCH", f"/api/signing/teams/{team['id']}", tokens[who],
                              {"contact": "0572-6000099"})
        assert status == allowed, (who, team["name"])
    status, _ = await api(running.url, "POST", "/api/signing/signings", tokens["assistant.sun"],
                          {"resident_id": wang_signing["resident_id"]})
    assert status == 403  # a 家庭助理 helps the team; signing is the doctors'
