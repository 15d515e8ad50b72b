"""The core's URL table, gathered from each handler module's ``ROUTES``."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tornado.web

from handlers import accounts, auth, consultations, health, media, notices, openapi, screens, supervision, ws
from handlers.base import NotFoundHandler

if TYPE_CHECKING:
    from hub.app import Hub

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
access_log = logging.getLogger("hub.access")


#: ``vendor/<name>-<version>/``: a vendored library's files never change under the same path (``make vendor``
#: puts a new version in a new folder), so browsers keep them for a year without asking again.
VERSIONED = re.compile(r"^vendor/[A-Za-z0-9@._-]+-\d+\.\d+\.\d+[A-Za-z0-9.-]*/")
LONG_CACHE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # kept, but asked again each time: a 304 by ETag when unchanged


class StaticFiles(tornado.web.StaticFileHandler):
    """``/static/``: the web clients' files (gzip-compressed by the application's ``compress_response``). A path
    that no file can have (a NUL in it) is a 400, where Tornado would let ``os.stat`` raise and answer 500.
    Versioned vendor files are cached for a year; everything else is revalidated with its ETag."""

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if "\x00" in absolute_path:
            raise tornado.web.HTTPError(400, "NUL in a static path")
        return super().validate_absolute_path(root, absolute_path)

    def get_cache_time(self, path: str, modified: Any, mime_type: str) -> int:
        return 0  # Cache-Control is set in set_extra_headers (Tornado would add an Expires of its own)

    def set_extra_headers(self, path: str) -> None:
        versioned = self.root == str(STATIC_DIR) and VERSIONED.match(path or "")
        self.set_header("Cache-Control", LONG_CACHE if versioned else REVALIDATE)


class IndexHandler(StaticFiles):
    """``/`` serves the H5 client (the chat page); ``/console`` and ``/h5`` the shells' ``index.html``."""

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return super().get_absolute_path(root, path or "index.html")


def core_routes(hub: Hub) -> list[tuple[str, type, dict[str, Any]]]:
    rules: list[tuple[str, type, dict[str, Any]]] = []
    for module in (auth, accounts, consultations, supervision, media, notices, screens, health, openapi, ws):
        rules.extend((pattern, handler, {"hub": hub}) for pattern, handler in module.ROUTES)
    rules.append((r"/()", IndexHandler, {"path": str(STATIC_DIR)}))
    rules.append((r"/static/(.*)", StaticFiles, {"path": str(STATIC_DIR)}))
    rules.append((r"/console()", IndexHandler, {"path": str(STATIC_DIR / "console")}))
    rules.append((r"/h5()", IndexHandler, {"path": str(STATIC_DIR / "h5")}))
    return rules


def screen_routes(hub: Hub) -> list[tuple[str, type, dict[str, Any]]]:
    """Each plugin's ``register_screens`` folder at ``/plugins/<plugin>/static/``."""
    return [(rf"/plugins/{re.escape(name)}/static/(.*)", StaticFiles, {"path": str(folder)})
            for name, folder in hub.screens.static_dirs.items()]


def fallback_routes(hub: Hub) -> list[tuple[str, type, dict[str, Any]]]:
    """Last in the table, after the plugins' routes: unknown API paths answer in JSON."""
    return [(r"/api/.*", NotFoundHandler, {"hub": hub})]


def log_request(handler: tornado.web.RequestHandler) -> None:
    """One structured line per request (no query strings: they may carry ids of people)."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    access_log.log(level, "%s %s %d %.1fms", handler.request.method, handler.request.path, status,
                   1000.0 * handler.request.request_time())
