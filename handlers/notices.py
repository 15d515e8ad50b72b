"""Notices: the record of which channel delivered what (supervisor and sysadmin)."""

from __future__ import annotations

from handlers.base import BaseHandler
from hub.channels import OUTCOMES, render_delivery
from hub.policy import SUPERVISING_ROLES, region_filter, require_role
from hub.schema import PAGE, Code, Enum, Id, Int, Moment


class DeliveriesHandler(BaseHandler):
    query_schema = {"get": {"user": Id(), "notice": Id(), "channel": Code(pattern=r"^[a-z][a-z0-9_]{0,31}$", most=32),
                            "outcome": Enum(values=OUTCOMES), "since": Moment(), "until": Moment(), **PAGE}}

    async def get(self) -> None:
        """Delivery records of notices to users of the caller's region, newest first: each attempt's channel
        (``ws``, a registered channel, or ``inbox`` when none took it) and outcome."""
        user = await self.authenticate()
        require_role(user, *SUPERVISING_ROLES)
        records, cursor = await self.hub.channels.deliveries(
            region_filter(user), user_id=self.get_query_argument("user", None),
            notice_id=self.get_query_argument("notice", None), channel=self.get_query_argument("channel", None),
            outcome=self.get_query_argument("outcome", None), since=self.time_arg("since"),
            until=self.time_arg("until"), limit=self.limit(), cursor=self.get_query_argument("cursor", None))
        self.reply_page([render_delivery(r) for r in records], cursor)


class InboxHandler(BaseHandler):
    query_schema = {"get": {"limit": Int(least=1, most=100, description="条数，默认 20"),
                            "before": Int(least=1, description="只取收件箱序号小于它的")}}

    async def get(self) -> None:
        """The caller's own notices (their inbox), newest first: the same shape as the WebSocket ``notice``
        frame. Live ones arrive over the socket; this is the list a page shows when it opens."""
        user = await self.authenticate()
        limit = int(self.get_query_argument("limit", "20"))
        before = self.get_query_argument("before", None)
        items = await self.hub.notices.recent(user["_id"], limit, int(before) if before else None)
        self.reply({"items": items})


ROUTES = [
    (r"/api/notices", InboxHandler),
    (r"/api/notices/deliveries", DeliveriesHandler),
]
