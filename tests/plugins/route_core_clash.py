"""Test plugin: declares the core's /api/auth/ as an extra prefix and registers a pattern the core has."""

from __future__ import annotations

from typing import Any

from handlers.base import BaseHandler
from hub import hookimpl

route_prefixes = ("/api/auth/",)


@hookimpl
def register_routes(hub: Any) -> list[tuple]:
    return [(r"/api/auth/token", BaseHandler)]
