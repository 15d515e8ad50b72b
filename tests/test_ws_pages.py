"""Pages and socket upgrades (issue 7, ws): the origin check compares scheme, host and port; every response
carries the security headers and no server version; a NUL in a static path is a 4xx."""

from __future__ import annotations

import pytest
import tornado.httpclient
import websockets

from tests.support import RunningHub, api


async def upgrade_status(ws_url: str, origin: str) -> int:
    """101 when the upgrade from this Origin is accepted, else the refusal's status."""
    try:
        conn = await websockets.connect(ws_url, origin=origin)
    except websockets.InvalidStatus as exc:
        return exc.response.status_code
    assert "Server" not in conn.response.headers  # the upgrade does not name the server either
    await conn.close()
    return 101


async def test_origin_must_match_scheme_host_and_port(hub: RunningHub) -> None:
    own = f"http://127.0.0.1:{hub.port}"
    assert await upgrade_status(hub.ws_url, own) == 101
    assert await upgrade_status(hub.ws_url, f"HTTP://127.0.0.1:{hub.port}") == 101
    for foreign in (f"https://127.0.0.1:{hub.port}", f"http://127.0.0.1:{hub.port + 1}", "http://127.0.0.1",
                    f"http://localhost:{hub.port}", f"ws://127.0.0.1:{hub.port}", "null",
                    f"http://127.0.0.1:{hub.port}.evil.example", f"http://evil.example#127.0.0.1:{hub.port}"):
        assert await upgrade_status(hub.ws_url, foreign) == 403, foreign
    # What the request says of itself does not replace the check (Tornado would take it at its word).
    try:
        await websockets.connect(hub.ws_url, origin=f"https://127.0.0.1:{hub.port}",
                                 additional_headers={"Sec-Fetch-Site": "same-origin"})
        raise AssertionError("an https origin was accepted by an http hub")
    except websockets.InvalidStatus as exc:
        assert exc.response.status_code == 403


async def test_allowed_origins_are_whole_origins(make_hub) -> None:
    running = await make_hub(allowed_origins=["https://h5.example.cn", "http://tools.example.cn:8080"])
    for accepted in ("https://h5.example.cn", "https://h5.example.cn:443", "http://tools.example.cn:8080"):
        assert await upgrade_status(running.ws_url, accepted) == 101, accepted
    for refused in ("http://h5.example.cn", "https://h5.example.cn:8443", "https://tools.example.cn:8080",
                    "http://tools.example.cn", "https://evil.h5.example.cn"):
        assert await upgrade_status(running.ws_url, refused) == 403, refused


async def test_public_url_is_the_hubs_own_origin_behind_a_tls_proxy(make_hub) -> None:
    # The proxy terminates TLS: the hub sees http on 127.0.0.1, the page was served from https://hub.example.cn.
    running = await make_hub(public_url="https://hub.example.cn/")
    assert await upgrade_status(running.ws_url, "https://hub.example.cn") == 101
    assert await upgrade_status(running.ws_url, "http://hub.example.cn") == 403
    # A page whose Host merely matches this request (DNS rebinding) is not the hub's origin once it is configured.
    assert await upgrade_status(running.ws_url, f"http://127.0.0.1:{running.port}") == 403


async def fetch(url: str, method: str = "GET") -> tornado.httpclient.HTTPResponse:
    request = tornado.httpclient.HTTPRequest(url, method=method, follow_redirects=False)
    return await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)


def assert_security_headers(response: tornado.httpclient.HTTPResponse, *, page: bool) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], (response.effective_url, csp)
    if page:  # scripts only from files of the hub: no inline script, no eval
        assert directives["script-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    else:
        assert directives["default-src"] == ["'none'"]
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "no-referrer"
    assert headers.get("X-Frame-Options") == "DENY"
    assert "Server" not in headers and "tornado" not in str(headers).lower(), dict(headers.get_all())


async def test_every_response_carries_the_security_headers(hub: RunningHub) -> None:
    token = hub.users["doctor"]["token"]
    cases = [("/", 200), ("/static/index.html", 200), ("/static/app.js", 200), ("/static/style.css", 200),
             ("/static/nothing.js", 404), ("/nothing", 404), ("/api/consultations", 401), ("/api/nothing", 404),
             ("/api/openapi.json", 200), ("/healthz", 200), ("/ws", 400), ("/static/../hub/config.py", 403)]
    for path, status in cases:
        response = await fetch(hub.url + path)
        assert response.code == status, (path, response.code)
        assert_security_headers(response, page=response.headers["Content-Type"].startswith("text/html"))
    for path in ("/", "/static/index.html"):
        assert (await fetch(hub.url + path)).headers["Content-Security-Policy"].startswith("default-src 'self'")
    status, _ = await api(hub.url, "GET", "/api/consultations", token)
    assert status == 200
    authed = await tornado.httpclient.AsyncHTTPClient().fetch(
        hub.url + "/api/consultations", headers={"Authorization": f"Bearer {token}"})
    assert_security_headers(authed, page=False)
    for path in ("/", "/static/app.js"):
        etag = (await fetch(hub.url + path)).headers["Etag"]
        not_modified = await tornado.httpclient.AsyncHTTPClient().fetch(
            hub.url + path, headers={"If-None-Match": etag}, raise_error=False)
        assert not_modified.code == 304
        # No policy on a 304: the browser would merge it into the cached page and replace the page's own.
        assert "Content-Security-Policy" not in not_modified.headers
        assert not_modified.headers["X-Content-Type-Options"] == "nosniff" and "Server" not in not_modified.headers


async def test_the_page_has_no_inline_script_style_or_handler(hub: RunningHub) -> None:
    import re
    html = (await fetch(hub.url + "/")).body.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script>"
    assert not re.search(r"<style\b", html) and not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    script = (await fetch(hub.url + "/static/app.js")).body.decode()
    assert "eval(" not in script and "new Function" not in script and "innerHTML" not in script.split("*/", 1)[1]


@pytest.mark.parametrize("path", ["/static/%00x", "/static/x%00", "/static/%00", "/%00", "/%00index.html",
                                  "/static/app.js%00.txt"])
async def test_nul_in_a_static_path_is_a_client_error(hub: RunningHub, path: str) -> None:
    response = await fetch(hub.url + path)
    assert 400 <= response.code < 500, (path, response.code)
    assert_security_headers(response, page=response.headers.get("Content-Type", "").startswith("text/html"))
    head = await fetch(hub.url + path, method="HEAD")
    assert 400 <= head.code < 500, (path, head.code)


@pytest.mark.parametrize(("name", "value"), [
    ("HUB_PUBLIC_URL", "hub.example.cn"), ("HUB_ALLOWED_ORIGINS", "https://ok.example.cn,h5.example.cn"),
    ("HUB_ALLOWED_ORIGINS", "null"), ("HUB_WS_MAX_SOCKETS_PER_USER", "0")])
def test_origin_and_socket_settings_are_checked_at_start_up(name: str, value: str) -> None:
    from hub.config import load_config
    from hub.errors import ConfigError
    with pytest.raises(ConfigError, match=r"public_url|allowed_origins|ws_max_sockets_per_user"):
        load_config(None, {"HUB_SECRET_KEY": "s" * 40, name: value})
    assert load_config(None, {"HUB_SECRET_KEY": "s" * 40, "HUB_PUBLIC_URL": "https://hub.example.cn/h5/",
                              "HUB_ALLOWED_ORIGINS": "https://h5.example.cn"}).public_url
