"""Test plugin: one of two that declare the shared prefix /api/twins/ and register the same pattern."""

from __future__ import annotations

from typing import Any

from handlers.base import BaseHandler
from hub import hookimpl

route_prefixes = ("/api/twins/",)


@hookimpl
def register_routes(hub: Any) -> list[tuple]:
    return [(r"/api/twins/same", BaseHandler)]
