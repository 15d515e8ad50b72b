"""Consultations (在线咨询) over REST: the doctors a resident may consult, open, list, end, read messages."""

from __future__ import annotations

from handlers.base import BaseHandler
from hub.accounts import public_profile
from hub.consultations import render_conversation
from hub.errors import InvalidInput
from hub.messaging import render_message
from hub.pages import decode_cursor, encode_cursor
from hub.schema import PAGE, Body, Enum, Id, Int


class ConsultationsHandler(BaseHandler):
    query_schema = {"get": {"status": Enum(values=("open", "ended")), **PAGE}}
    body_schema = {"post": Body("consultation", doctor_id=Id(required=True))}

    async def get(self) -> None:
        """The caller's consultations, newest first, each with its last message and unread count."""
        user = await self.authenticate()
        convs, cursor = await self.hub.consultations.list_for(
            user, status=self.get_query_argument("status", None), limit=self.limit(),
            cursor=self.get_query_argument("cursor", None))
        self.reply_page([render_conversation(c, user["_id"]) for c in convs], cursor)

    async def post(self) -> None:
        """A resident opens a consultation with a doctor of their signed team (or gets the open one)."""
        user = await self.authenticate()
        conv, created = await self.hub.consultations.open(self.context(user), self.json_body().get("doctor_id"))
        self.reply(render_conversation(conv, user["_id"]), 201 if created else 200)


class DoctorsHandler(BaseHandler):
    async def get(self) -> None:
        """A resident's family doctors (我的家庭医生): the doctors they may open a consultation with.

        Each item is a public profile ``{id, name, role, title, work_type, profile}``; the list is short (the
        resident's signed team) and never paged, so ``next_cursor`` is always null. Staff get 403. A protocol
        extension."""
        user = await self.authenticate()
        doctors = await self.hub.consultations.doctors_for(user)
        self.reply_page([public_profile(d) for d in doctors], None)


class ConsultationHandler(BaseHandler):
    async def get(self, conv_id: str) -> None:
        """One consultation."""
        user = await self.authenticate()
        await self.hub.consultations.get_for(user, conv_id)
        self.reply(render_conversation(await self.hub.consultations.full(conv_id), user["_id"]))


class EndHandler(BaseHandler):
    body_schema = {"post": Body("consultation")}  # no fields

    async def post(self, conv_id: str) -> None:
        """The doctor ends the consultation; everyone in it gets a ``conv`` frame."""
        user = await self.authenticate()
        await self.hub.consultations.end(self.context(user), conv_id)
        self.reply(render_conversation(await self.hub.consultations.full(conv_id), user["_id"]))


class MessagesHandler(BaseHandler):
    query_schema = {"get": {"after_seq": Int(least=0), "before_seq": Int(least=0), **PAGE}}

    async def get(self, conv_id: str) -> None:
        """Messages in seq order: ``after_seq`` (or the ``cursor`` of the previous page) pages forward,
        ``before_seq`` alone pages back."""
        user = await self.authenticate()
        conv = await self.hub.consultations.get_for(user, conv_id)
        after, before, limit = self.int_arg("after_seq"), self.int_arg("before_seq"), self.limit()
        cursor = decode_cursor(self.get_query_argument("cursor", None))
        if cursor is not None:
            if not cursor.isdigit():
                raise InvalidInput("cursor 无效", field="cursor")
            after = int(cursor)
        if after is not None and before is not None and before <= after:
            raise InvalidInput("before_seq 必须大于 after_seq", field="before_seq")
        docs = await self.hub.messaging.page(conv["_id"], after_seq=after, before_seq=before, limit=limit)
        forward = before is None or after is not None
        more = forward and len(docs) == limit
        self.reply({"items": [render_message(d) for d in docs],
                    "next_cursor": encode_cursor(str(docs[-1]["seq"])) if more else None})


ROUTES = [
    (r"/api/consultations", ConsultationsHandler),
    (r"/api/consultations/doctors", DoctorsHandler),  # before the id pattern, which would take "doctors"
    (r"/api/consultations/([^/]+)", ConsultationHandler),
    (r"/api/consultations/([^/]+)/end", EndHandler),
    (r"/api/consultations/([^/]+)/messages", MessagesHandler),
]
