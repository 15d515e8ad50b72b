"""Security headers on every response of the hub: pages, static files, the JSON API, errors and 404s alike.

Applied as a Tornado output transform, so no handler (a plugin's included, or Tornado's own error pages) can
forget them; it also drops the ``Server`` header that Tornado sets with its version."""

from __future__ import annotations

from http import HTTPStatus

import tornado.httputil
import tornado.web

#: The H5 client: scripts, styles and sockets only from the hub itself (``'self'`` covers ws:/wss: of the same
#: host), no inline script or style, no eval, no plugins, no framing. ``data:`` images for the blank favicon.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: The two shells (``/console``, ``/h5``) run Vue's full build, whose template compiler turns each page's
#: template into a function with ``new Function``: 'unsafe-eval', and only there. Still no inline script, and
#: user text reaches the page only through ``{{ }}`` interpolation (never ``v-html``). See README "Web shells".
SHELL_PAGES = frozenset({"/console", "/h5"})
#: Vant's icon font is a ``data:`` URL inside its CSS (font-src).
SHELL_POLICY = PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'").replace(
    "img-src", "font-src 'self' data:; img-src")
#: Anything that is not a page (JSON, scripts, styles): nothing may run or load if a browser opens it directly.
RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers (older in-app WebViews) that do not know frame-ancestors
    "Referrer-Policy": "no-referrer",  # addresses of health pages never leave for another site
}


class SecurityHeaders(tornado.web.OutputTransform):
    def __init__(self, request: tornado.httputil.HTTPServerRequest) -> None:
        super().__init__(request)
        self.shell = request.path in SHELL_PAGES

    def transform_first_chunk(self, status_code: int, headers: tornado.httputil.HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, tornado.httputil.HTTPHeaders, bytes]:
        # A 304 has no Content-Type, and the browser merges its headers into the cached response: a policy
        # chosen here would replace the page's own (the cached page then loads nothing). It keeps the stored one.
        if status_code != HTTPStatus.NOT_MODIFIED:
            page = headers.get("Content-Type", "").startswith("text/html")
            policy = (SHELL_POLICY if self.shell else PAGE_POLICY) if page else RESOURCE_POLICY
            headers["Content-Security-Policy"] = policy
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value
        headers.pop("Server", None)
        return status_code, headers, chunk
