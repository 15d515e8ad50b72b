"""The screen slots: ``GET /api/screens`` (the pages the caller's role sees) and the two shells' pages."""

from __future__ import annotations

from handlers.base import BaseHandler
from hub.schema import Enum, Text
from hub.screens import APPS


class ScreensHandler(BaseHandler):
    query_schema = {"get": {"app": Enum(values=APPS, required=True, description="console 或 h5")}}

    async def get(self) -> None:
        """The pages of the console or the H5 app that the caller's role may use, sorted by (menu, order); each
        ``module`` an absolute URL of its ES module."""
        user = await self.authenticate()
        base = f"{self.request.protocol}://{self.request.host}"
        self.reply({"pages": self.hub.screens.visible(self.get_query_argument("app"), user["role"], base)})


class KnownHandler(BaseHandler):
    query_schema = {"get": {"app": Enum(values=APPS, required=True), "path": Text(200, required=True)}}

    async def get(self) -> None:
        """Whether some role has a page at ``path``: the shells tell 无权访问 from 页面不存在 by it."""
        await self.authenticate()
        self.reply({"known": self.hub.screens.known(self.get_query_argument("app"), self.get_query_argument("path"))})


ROUTES = [
    (r"/api/screens", ScreensHandler),
    (r"/api/screens/known", KnownHandler),
]
