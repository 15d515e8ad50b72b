"""Test plugin: registers a route outside its own prefixes (/api/route_outside/, /plugins/route_outside/)."""

from __future__ import annotations

from typing import Any

from handlers.base import BaseHandler
from hub import hookimpl


class InsideHandler(BaseHandler):
    public = True

    async def get(self) -> None:
        """Answer inside the plugin's prefix."""
        self.reply({"inside": True})


@hookimpl
def register_routes(hub: Any) -> list[tuple]:
    return [(r"/api/route_outside/inside", InsideHandler), (r"/api/elsewhere/outside", InsideHandler)]
