"""The web clients' static files: gzip-compressed, versioned vendor files cached for a year, the rest
revalidated by ETag (a 304 when unchanged)."""

from __future__ import annotations

import gzip

import tornado.httpclient

from handlers.routes import LONG_CACHE, REVALIDATE

VUE = "/static/vendor/vue-3.5.45/dist/vue.global.prod.js"


async def get(url: str, **headers: str) -> tornado.httpclient.HTTPResponse:
    request = tornado.httpclient.HTTPRequest(url, headers=headers, decompress_response=False)
    return await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)


async def test_vendor_files_are_compressed_and_cached_for_good(make_hub) -> None:
    running = await make_hub()
    response = await get(running.url + VUE, **{"Accept-Encoding": "gzip"})
    assert response.code == 200 and response.headers["Cache-Control"] == LONG_CACHE
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"Vue" in gzip.decompress(response.body) and len(response.body) < 100_000  # 173 KB plain
    plain = await get(running.url + VUE)
    assert "Content-Encoding" not in plain.headers and plain.headers["Cache-Control"] == LONG_CACHE


async def test_other_files_are_revalidated_by_etag(make_hub) -> None:
    running = await make_hub(plugins={"signing": False, "example_greeter": True})
    for path in ("/static/console/shell.js", "/console", "/h5", "/plugins/example_greeter/static/console/greet.js",
                 "/static/vendor/VERSIONS"):
        first = await get(running.url + path, **{"Accept-Encoding": "gzip"})
        assert first.code == 200 and first.headers["Cache-Control"] == REVALIDATE, path
        again = await get(running.url + path, **{"If-None-Match": first.headers["Etag"]})
        assert again.code == 304, path
