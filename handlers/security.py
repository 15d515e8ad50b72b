"""Security headers on every response of the hub: pages, static files, the JSON API, errors and 404s alike.

Applied as a Tornado output transform, so no handler (a plugin's included, or Tornado's own error pages) can
forget them; it also drops the ``Server`` header that Tornado sets with its version."""

from __future__ import annotations

from http import HTTPStatus

import tornado.httputil
import tornado.web

#: The H5 client: scripts, styles and sockets only from the hub itself (``'self'`` covers ws:/wss: of the same
#: host), no inline script or style, no eval, no plugins, no framing. ``data:`` images for the blank favicon.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: Anything that is not a page (JSON, scripts, styles): nothing may run or load if a browser opens it directly.
RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers (older in-app WebViews) that do not know frame-ancestors
    "Referrer-Policy": "no-referrer",  # addresses of health pages never leave for another site
}


class SecurityHeaders(tornado.web.OutputTransform):
    def transform_first_chunk(self, status_code: int, headers: tornado.httputil.HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, tornado.httputil.HTTPHeaders, bytes]:
        # A 304 has no Content-Type, and the browser merges its headers into the cached response: a policy
        # chosen here would replace the page's own (the cached page then loads nothing). It keeps the stored one.
        if status_code != HTTPStatus.NOT_MODIFIED:
            page = headers.get("Content-Type", "").startswith("text/html")
            headers["Content-Security-Policy"] = PAGE_POLICY if page else RESOURCE_POLICY
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value
        headers.pop("Server", None)
        return status_code, headers, chunk
