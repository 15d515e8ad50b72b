"""The embedded default's demo data: the README's logins work, and consultations follow real signings."""

from __future__ import annotations

from hub.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from tests.support import Client, api, login


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
