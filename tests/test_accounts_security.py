"""Accounts: logins cost the same whoever is asked; logout, password change, disable and reset end every token
at once on every process; failed logins, lockouts and 403s are security events of the audit trail."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from argon2 import PasswordHasher, extract_parameters

from tests.conftest import add_users
from tests.support import PASSWORD, Client, api, login

NEW_PASSWORD = "new-password-456"


class SpyHasher(PasswordHasher):
    """The real Argon2 hasher, noting the parameters of every hash it verifies against."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verified: list[tuple[int, int]] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        params = extract_parameters(hash if isinstance(hash, str) else hash.decode())
        self.verified.append((params.time_cost, params.memory_cost))
        return super().verify(hash, password)


async def post_login(url: str, username: str, password: str) -> int:
    status, _ = await api(url, "POST", "/api/auth/token", body={"username": username, "password": password})
    return status


async def audit_of(running, who: str, action: str) -> list[dict]:
    status, page = await api(running.url, "GET", f"/api/audit?action={action}", running.users[who]["token"])
    assert status == 200, page
    return page["items"]


# -- item: unknown users cost the same -----------------------------------------------------------------------

async def test_every_failed_login_verifies_one_hash_of_the_configured_parameters(hub) -> None:
    accounts = hub.hub.accounts
    await accounts.create_user(username="profile.only", password=None, role="doctor", name="档案医生")
    await hub.hub.db.users.update_one({"username": "doctor2"}, {"$set": {"disabled": True}})
    spy = SpyHasher(time_cost=accounts.hasher.time_cost, memory_cost=accounts.hasher.memory_cost, parallelism=1)
    accounts.hasher = spy
    configured = (accounts.hasher.time_cost, accounts.hasher.memory_cost)
    for username, password in [("nobody.here", PASSWORD), ("profile.only", PASSWORD), ("doctor2", PASSWORD),
                               ("doctor", "wrong-password")]:
        spy.verified.clear()
        assert await post_login(hub.url, username, password) == 401
        assert spy.verified == [configured], username


async def test_an_unknown_user_takes_as_long_as_a_wrong_password(make_hub) -> None:
    # Real Argon2 cost, small: CPU time of this process (the hub runs in it), which other processes' load
    # does not inflate. Before the fix an unknown user cost a few per cent of a wrong password.
    running = await make_hub(password_time_cost=2, password_memory_kib=16384, login_max_failures=1000)
    await add_users(running)

    async def cpu(username: str, password: str) -> float:
        started = time.process_time()
        assert await post_login(running.url, username, password) == 401
        return time.process_time() - started

    wrong, unknown = [], []
    for attempt in range(7):
        wrong.append(await cpu("doctor", "wrong-password"))
        unknown.append(await cpu(f"nobody{attempt}", "wrong-password"))
    assert statistics.median(unknown) >= 0.5 * statistics.median(wrong), (unknown, wrong)


# -- item: logout, password change, disable, reset -----------------------------------------------------------

async def two_hubs(make_hub, redis_server):
    first = await make_hub(redis_url=redis_server.url)
    second = await make_hub(redis_url=redis_server.url)
    users = await add_users(first)
    second.users = users
    return first, second, users


async def assert_token_dead(token: str, *hubs) -> None:
    for running in hubs:
        status, body = await api(running.url, "GET", "/api/me", token)
        assert status == 401 and body["error"]["details"]["reason"] == "revoked", body


async def test_logout_closes_sockets_on_the_other_process_and_the_token_dies_on_both(make_hub,
                                                                                    redis_server) -> None:
    first, second, users = await two_hubs(make_hub, redis_server)
    token = users["doctor"]["token"]
    socket = await Client.connect(second.ws_url, token)
    bystander = await Client.connect(second.ws_url, users["resident"]["token"])
    status, body = await api(first.url, "POST", "/api/auth/logout", token)
    assert (status, body) == (200, {"logged_out": True})
    assert await socket.closed_with() == 4001
    await assert_token_dead(token, first, second)
    assert (await bystander.request({"type": "ping"}))["type"] == "pong"
    assert (await audit_of(first, "sysadmin", "auth.logout"))[0]["actor"] == users["doctor"]["_id"]


async def test_a_password_change_revokes_everywhere_and_returns_a_fresh_token(make_hub, redis_server) -> None:
    first, second, users = await two_hubs(make_hub, redis_server)
    old = users["resident"]["token"]
    socket = await Client.connect(second.ws_url, old)
    status, body = await api(first.url, "POST", "/api/auth/password", old,
                             {"old_password": "not-it-at-all", "new_password": NEW_PASSWORD})
    assert status == 401 and body["error"]["code"] == "invalid_credentials"
    status, body = await api(first.url, "POST", "/api/auth/password", old,
                             {"old_password": PASSWORD, "new_password": "short"})
    assert status == 400 and body["error"]["details"]["field"] == "new_password"
    status, grant = await api(first.url, "POST", "/api/auth/password", old,
                              {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert status == 200 and grant["token_type"] == "bearer"
    assert await socket.closed_with() == 4001
    await assert_token_dead(old, first, second)
    for running in (first, second):
        assert (await api(running.url, "GET", "/api/me", grant["access_token"]))[0] == 200
    fresh = await Client.connect(second.ws_url, grant["access_token"])
    assert (await fresh.request({"type": "ping"}))["type"] == "pong"
    assert await post_login(second.url, "resident", PASSWORD) == 401
    assert await post_login(second.url, "resident", NEW_PASSWORD) == 200
    failed = await audit_of(first, "supervisor", "auth.password_failed")
    assert failed[0]["target"] == users["resident"]["_id"] and failed[0]["details"]["reason"] == "wrong_password"


async def test_a_sysadmin_disables_enables_and_resets(make_hub, redis_server) -> None:
    first, second, users = await two_hubs(make_hub, redis_server)
    doctor, admin = users["doctor"], users["sysadmin"]["token"]
    socket = await Client.connect(second.ws_url, doctor["token"])
    status, body = await api(first.url, "POST", f"/api/accounts/{doctor['_id']}/disable", admin)
    assert status == 200 and body["disabled"] is True
    assert await socket.closed_with() == 4001
    await assert_token_dead(doctor["token"], first, second)
    assert await post_login(second.url, "doctor", PASSWORD) == 401
    status, body = await api(second.url, "POST", f"/api/accounts/{doctor['_id']}/enable", admin)
    assert status == 200 and body["disabled"] is False
    token = await login(first.url, "doctor")
    socket = await Client.connect(second.ws_url, token)
    status, _ = await api(first.url, "POST", f"/api/accounts/{doctor['_id']}/password", admin,
                          {"new_password": NEW_PASSWORD})
    assert status == 200
    assert await socket.closed_with() == 4001
    await assert_token_dead(token, first, second)
    assert await post_login(first.url, "doctor", NEW_PASSWORD) == 200
    # Audited in the doctor's region: its supervisor sees them, the other county's does not.
    for action in ("account.disable", "account.enable", "account.password_reset"):
        assert [e["target"] for e in await audit_of(first, "supervisor", action)] == [doctor["_id"]]
        assert await audit_of(first, "supervisor_other", action) == []
    status, _ = await api(first.url, "POST", f"/api/accounts/{users['sysadmin']['_id']}/disable", admin)
    assert status == 403  # not one's own account
    status, _ = await api(first.url, "POST", "/api/accounts/no-such-user/disable", admin)
    assert status == 404


async def test_an_institution_admin_manages_only_the_staff_of_their_institution(hub) -> None:
    accounts = hub.hub.accounts
    made = {}
    for username, role, institution in [("admin.a", "admin", "inst-a"), ("admin.a2", "admin", "inst-a"),
                                        ("doc.a", "doctor", "inst-a"), ("doc.b", "doctor", "inst-b"),
                                        ("nurse.a", "assistant", "inst-a")]:
        made[username] = await accounts.create_user(username=username, password=PASSWORD, role=role,
                                                    name=username, region="330522100000",
                                                    institution_id=institution)
    token = await login(hub.url, "admin.a")
    for target, status in [("doc.a", 200), ("nurse.a", 200), ("doc.b", 403), ("admin.a2", 403)]:
        got, _ = await api(hub.url, "POST", f"/api/accounts/{made[target]['_id']}/disable", token)
        assert got == status, target
    got, _ = await api(hub.url, "POST", f"/api/accounts/{hub.users['resident']['_id']}/disable", token)
    assert got == 403
    # Supervisors audit accounts; they do not administer them. Nor do doctors or residents.
    for who in ("supervisor", "doctor2", "resident"):
        got, _ = await api(hub.url, "POST", f"/api/accounts/{made['doc.b']['_id']}/disable", hub.users[who]["token"])
        assert got == 403, who


# -- item: security events in the audit trail ----------------------------------------------------------------

async def test_failed_logins_and_lockouts_are_seen_by_the_regions_supervisors(make_hub) -> None:
    running = await make_hub(login_max_failures=3)
    users = await add_users(running)
    for _ in range(4):
        await post_login(running.url, "doctor", "wrong-password")
    assert await post_login(running.url, "doctor", PASSWORD) == 429
    failed = await audit_of(running, "supervisor", "auth.login_failed")
    assert len(failed) == 1  # counted into one record
    entry = failed[0]
    assert entry["target"] == users["doctor"]["_id"] and entry["address"] == "127.0.0.1"
    assert entry["details"]["count"] == 3 and entry["details"]["reason"] == "wrong_password"
    locked = await audit_of(running, "supervisor", "auth.lockout")
    assert [e["details"]["failures"] for e in locked] == [3]
    assert (await audit_of(running, "supervisor", "auth.locked_attempt"))[0]["details"]["count"] == 2
    assert await audit_of(running, "supervisor_other", "auth.login_failed") == []


async def test_a_failed_login_of_an_unknown_name_is_for_sysadmins_only(hub) -> None:
    assert await post_login(hub.url, "no.such.person", PASSWORD) == 401
    assert await audit_of(hub, "supervisor", "auth.login_failed") == []
    entry, = await audit_of(hub, "sysadmin", "auth.login_failed")
    assert entry["details"]["login"] == "no.such.person" and entry["details"]["reason"] == "unknown_user"
    assert entry["target"] == "" and entry["address"] == "127.0.0.1"


async def test_refused_requests_are_audited_once_a_window_with_a_count(hub) -> None:
    token = hub.users["doctor"]["token"]
    replies = await asyncio.gather(*(api(hub.url, "GET", "/api/audit", token) for _ in range(25)))
    assert {status for status, _ in replies} == {403}
    assert replies[0][1]["error"]["code"] == "forbidden"
    entry, = await audit_of(hub, "supervisor", "security.forbidden")
    assert entry["actor"] == hub.users["doctor"]["_id"] and entry["address"] == "127.0.0.1"
    assert entry["details"]["count"] == 25 and entry["details"]["path"] == "/api/audit"
    assert await audit_of(hub, "supervisor_other", "security.forbidden") == []


async def test_a_new_window_opens_a_new_record(make_hub) -> None:
    running = await make_hub(audit_security_window_secs=0.5)
    await add_users(running)
    token = running.users["resident"]["token"]
    assert (await api(running.url, "GET", "/api/alerts", token))[0] == 403
    await asyncio.sleep(0.6)  # past the window
    assert (await api(running.url, "GET", "/api/alerts", token))[0] == 403
    entries = await audit_of(running, "sysadmin", "security.forbidden")
    assert [e["details"]["count"] for e in entries] == [1, 1]
