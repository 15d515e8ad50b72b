"""Notices: the record of which channel delivered what (supervisor and sysadmin)."""

from __future__ import annotations

from handlers.base import BaseHandler
from hub.channels import OUTCOMES, render_delivery
from hub.policy import SUPERVISING_ROLES, region_filter, require_role
from hub.schema import PAGE, Code, Enum, Id, Moment


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


ROUTES = [
    (r"/api/notices/deliveries", DeliveriesHandler),
]
