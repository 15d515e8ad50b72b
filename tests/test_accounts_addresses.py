"""Forwarded headers are believed only from configured proxies: the login lockout and the audit trail see the
real client address."""

from __future__ import annotations

import pytest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from hub.addresses import TrustedProxies
from hub.config import load_config
from hub.errors import ConfigError
from tests.conftest import add_users
from tests.support import PASSWORD, api


def request_from(peer: str, **headers: str) -> HTTPServerRequest:
    request = HTTPServerRequest(start_line=RequestStartLine("GET", "/", "HTTP/1.1"), headers=HTTPHeaders(
        {"Host": "hub.example", **{name.replace("_", "-"): value for name, value in headers.items()}}))
    request.remote_ip = peer
    return request


async def try_login(url: str, username: str, password: str, forwarded_for: str) -> int:
    status, _ = await api(url, "POST", "/api/auth/token", body={"username": username, "password": password},
                          headers={"X-Forwarded-For": forwarded_for})
    return status


async def audited_addresses(hub, action: str) -> list[str]:
    status, page = await api(hub.url, "GET", f"/api/audit?action={action}", hub.users["sysadmin"]["token"])
    assert status == 200, page
    return [entry["address"] for entry in page["items"]]


def test_no_proxy_is_trusted_by_default_so_the_peer_is_the_client() -> None:
    proxies = TrustedProxies([])
    assert proxies.client_address(request_from("198.51.100.4", X_Forwarded_For="127.0.0.1")) == "198.51.100.4"
    assert proxies.client_address(request_from("198.51.100.4", X_Real_IP="10.1.1.1")) == "198.51.100.4"
    assert proxies.client_scheme(request_from("198.51.100.4", X_Forwarded_Proto="https")) == "http"


def test_a_trusted_proxy_is_believed_from_the_right_skipping_its_own_hops() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "::1"])
    # The client wrote the leftmost entry itself; only what the proxies appended is vouched for.
    chain = request_from("10.0.0.2", X_Forwarded_For="127.0.0.1, 203.0.113.7, 10.0.0.9")
    assert proxies.client_address(chain) == "203.0.113.7"
    assert proxies.client_address(request_from("::1", X_Forwarded_For="2001:db8::5")) == "2001:db8::5"
    assert proxies.client_address(request_from("::ffff:10.0.0.2", X_Real_IP="203.0.113.8")) == "203.0.113.8"
    # A malformed hop ends the walk at the last address a trusted proxy vouched for.
    assert proxies.client_address(request_from("10.0.0.2", X_Forwarded_For="203.0.113.7, junk")) == "10.0.0.2"
    assert proxies.client_address(request_from("10.0.0.2")) == "10.0.0.2"
    assert proxies.client_scheme(request_from("10.0.0.2", X_Forwarded_Proto="https")) == "https"
    # Anyone else's headers are theirs alone.
    assert proxies.client_address(request_from("192.0.2.1", X_Forwarded_For="203.0.113.7")) == "192.0.2.1"


def test_a_bad_proxy_entry_fails_at_start_up() -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_config(None, {"HUB_SECRET_KEY": "s" * 40, "HUB_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"})


async def test_rotating_x_forwarded_for_does_not_get_past_the_lockout(hub) -> None:
    for attempt in range(hub.hub.config.login_max_failures):
        assert await try_login(hub.url, "doctor", "wrong-password", f"203.0.113.{attempt}") == 401
    # Even the right password, from yet another "address", is refused: the lockout counts the real peer.
    assert await try_login(hub.url, "doctor", PASSWORD, "198.51.100.77") == 429
    assert await try_login(hub.url, "resident", PASSWORD, "203.0.113.250") == 200
    assert set(await audited_addresses(hub, "auth.login")) == {"127.0.0.1"}


async def test_a_configured_proxy_is_believed(make_hub) -> None:
    running = await make_hub(trusted_proxies=["127.0.0.1"])
    await add_users(running)
    for _ in range(running.hub.config.login_max_failures):
        assert await try_login(running.url, "doctor", "wrong-password", "203.0.113.7") == 401
    assert await try_login(running.url, "doctor", PASSWORD, "203.0.113.7") == 429
    # Another client behind the same proxy is not locked out by the first one's failures.
    assert await try_login(running.url, "doctor", PASSWORD, "10.9.8.7, 198.51.100.2") == 200
    assert "198.51.100.2" in await audited_addresses(running, "auth.login")
