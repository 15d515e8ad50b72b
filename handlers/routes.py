"""The core's URL table, gathered from each handler module's ``ROUTES``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tornado.web

from handlers import accounts, auth, consultations, health, media, notices, openapi, supervision, ws
from handlers.base import NotFoundHandler

if TYPE_CHECKING:
    from hub.app import Hub

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
access_log = logging.getLogger("hub.access")


class StaticFiles(tornado.web.StaticFileHandler):
    """``/static/``: the H5 client's files. A path that no file can have (a NUL in it) is a 400, where Tornado
    would let ``os.stat`` raise and answer 500."""

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if "\x00" in absolute_path:
            raise tornado.web.HTTPError(400, "NUL in a static path")
        return super().validate_absolute_path(root, absolute_path)


class IndexHandler(StaticFiles):
    """``/`` serves the H5 client."""

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return super().get_absolute_path(root, path or "index.html")


def core_routes(hub: Hub) -> list[tuple[str, type, dict[str, Any]]]:
    rules: list[tuple[str, type, dict[str, Any]]] = []
    for module in (auth, accounts, consultations, supervision, media, notices, health, openapi, ws):
        rules.extend((pattern, handler, {"hub": hub}) for pattern, handler in module.ROUTES)
    rules.append((r"/()", IndexHandler, {"path": str(STATIC_DIR)}))
    rules.append((r"/static/(.*)", StaticFiles, {"path": str(STATIC_DIR)}))
    return rules


def fallback_routes(hub: Hub) -> list[tuple[str, type, dict[str, Any]]]:
    """Last in the table, after the plugins' routes: unknown API paths answer in JSON."""
    return [(r"/api/.*", NotFoundHandler, {"hub": hub})]


def log_request(handler: tornado.web.RequestHandler) -> None:
    """One structured line per request (no query strings: they may carry ids of people)."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    access_log.log(level, "%s %s %d %.1fms", handler.request.method, handler.request.path, status,
                   1000.0 * handler.request.request_time())
