"""Supervision (supervisor and sysadmin): sensitive words, alerts and the audit trail."""

from __future__ import annotations

import asyncio

from handlers.base import XLSX, BaseHandler
from hub.alerts import ALERT_STATUSES, CONTEXT_MESSAGES, render_alert
from hub.errors import InvalidInput, TooLarge
from hub.ids import iso
from hub.messaging import render_message
from hub.policy import SUPERVISING_ROLES, region_filter, require_role
from hub.schema import PAGE, Body, Bool, Code, Enum, Id, Moment, Search, Text, Word
from hub.sensitive_words import ACTIONS, render_word

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class SupervisionHandler(BaseHandler):
    async def supervisor(self) -> dict:
        user = await self.authenticate()
        require_role(user, *SUPERVISING_ROLES)
        return user



class WordsHandler(SupervisionHandler):
    query_schema = {"get": {"q": Search(), "category": Word(), "action": Enum(values=ACTIONS), **PAGE}}
    body_schema = {"post": Body("sensitive_word", word=Word(required=True), action=Enum(values=ACTIONS),
                                category=Word(), pinyin=Bool())}

    async def get(self) -> None:
        """The sensitive-word list, filtered by ``q`` (substring), ``category`` and ``action``."""
        await self.supervisor()
        words, cursor = await self.hub.words.list(
            q=self.get_query_argument("q", None), category=self.get_query_argument("category", None),
            action=self.get_query_argument("action", None), limit=self.limit(),
            cursor=self.get_query_argument("cursor", None))
        self.reply_page([render_word(w) for w in words], cursor)

    async def post(self) -> None:
        """Add a word with its action (block, mask, alert, or allow for the allow-list) and category."""
        user = await self.supervisor()
        body = self.json_body()
        doc, version = await self.hub.words.add(user, body.get("word"), body.get("action"), body.get("category"),
                                                body.get("pinyin", False))
        await self.audit("sensitive_word.create", doc["_id"], word=doc["word"], action=doc["action"])
        self.reply({**render_word(doc), "version": version}, 201)


class WordHandler(SupervisionHandler):
    body_schema = {"patch": Body("sensitive_word", enabled=Bool(), action=Enum(values=ACTIONS), category=Word(),
                                 pinyin=Bool())}

    async def get(self, word_id: str) -> None:
        """One word."""
        await self.supervisor()
        self.reply(render_word(await self.hub.words.get(word_id)))

    async def patch(self, word_id: str) -> None:
        """Enable or disable a word, or change its action or category."""
        await self.supervisor()
        doc, version = await self.hub.words.update(word_id, self.json_body())
        await self.audit("sensitive_word.update", word_id, word=doc["word"], action=doc["action"],
                         enabled=doc["enabled"])
        self.reply({**render_word(doc), "version": version})

    async def delete(self, word_id: str) -> None:
        """Delete a word."""
        await self.supervisor()
        doc, version = await self.hub.words.delete(word_id)
        await self.audit("sensitive_word.delete", word_id, word=doc["word"])
        self.reply({"id": word_id, "deleted": True, "version": version})


class WordsImportHandler(SupervisionHandler):
    body_types = {"post": ("text/plain", XLSX)}
    max_body_bytes = MAX_IMPORT_BYTES
    query_schema = {"post": {"action": Enum(values=ACTIONS), "category": Word()}}

    async def post(self) -> None:
        """Import many words: a UTF-8 text body (one word a line, optionally ``word,category,action``) or an
        .xlsx body (``Content-Type`` of a spreadsheet). ``?action=`` and ``?category=`` fill empty columns.
        All rows are checked first; any bad row refuses the whole file with a per-row report."""
        user = await self.supervisor()
        body = self.request.body
        if len(body) > MAX_IMPORT_BYTES:
            raise TooLarge(limit_bytes=MAX_IMPORT_BYTES)
        if not body:
            raise InvalidInput("请求体为空")
        action = self.get_query_argument("action", "block")
        category = self.get_query_argument("category", "")
        content_type = self.request.headers.get("Content-Type", "")
        if "spreadsheet" in content_type or body[:2] == b"PK":
            rows = await self.hub.words.parse_xlsx(body, action, category)
        else:
            # 20 MiB of text is 200k rows to check: seconds of work kept off the event loop
            rows = await asyncio.to_thread(self.hub.words.parse_text, body, action, category)
        summary, version = await self.hub.words.import_rows(user, rows)
        await self.audit("sensitive_word.import", "sensitive_words", **summary)
        self.reply({**summary, "version": version})


class WordsStatusHandler(SupervisionHandler):
    async def get(self) -> None:
        """The screening engine version in use on this process and on every process."""
        await self.supervisor()
        self.reply(await self.hub.words.status())


class AlertsHandler(SupervisionHandler):
    query_schema = {"get": {"status": Enum(values=ALERT_STATUSES), "category": Word(),
                            "region": Code(pattern=r"^\d{1,12}$", most=12), "user": Id(), "since": Moment(),
                            "until": Moment(), "word": Word(description="命中词包含此文字"), **PAGE}}

    async def get(self) -> None:
        """Alerts of the caller's region, newest first, filtered by status, category, region, user, word (a word
        hit containing this text) and time."""
        user = await self.supervisor()
        alerts, cursor = await self.hub.alerts.list(
            user, status=self.get_query_argument("status", None),
            category=self.get_query_argument("category", None), region=self.get_query_argument("region", None),
            user_id=self.get_query_argument("user", None), since=self.time_arg("since"),
            until=self.time_arg("until"), limit=self.limit(), cursor=self.get_query_argument("cursor", None),
            word=self.get_query_argument("word", None))
        self.reply_page([render_alert(a) for a in alerts], cursor)


class AlertHandler(SupervisionHandler):
    async def get(self, alert_id: str) -> None:
        """One alert of the caller's region with where it came from: for a consultation message, ``context``
        ``{"conversation": {id, status, resident, doctor}, "messages": [...]}``, the messages around it (a
        blocked message was never stored: the newest ones before it); for a form field, ``where`` names the
        plugin, request path, document and field. Supervisors trace what the alert is about without joining the
        consultation (white paper 2.4.3.8); each look is audited. ``region_name`` names the alert's region."""
        user = await self.supervisor()
        doc = await self.hub.alerts.get(user, alert_id)
        reply = render_alert(doc)
        reply["context"] = await self.conversation_context(doc)
        region = await self.hub.db.regions.find_one({"_id": doc["region"]}, {"name": 1}) if doc["region"] else None
        reply["region_name"] = (region or {}).get("name", "")
        await self.hub.audit.record(actor=user, action="alert.view", target=alert_id, address=self.address,
                                    region=doc["region"], details={"conv": doc["where"].get("conv")})
        self.reply(reply)

    async def conversation_context(self, alert: dict) -> dict | None:
        where = alert["where"]
        conv_id = where.get("conv")
        if not isinstance(conv_id, str):
            return None
        conv = await self.hub.consultations.full(conv_id)
        seq = where.get("seq")
        if isinstance(seq, int):
            docs = await self.hub.messaging.page(conv_id, after_seq=max(0, seq - CONTEXT_MESSAGES - 1),
                                                 before_seq=None, limit=2 * CONTEXT_MESSAGES + 1)
        else:
            docs = await self.hub.messaging.before(conv_id, alert["created_at"], CONTEXT_MESSAGES)
        return {"conversation": {"id": conv["_id"], "status": conv["status"], "resident": conv["resident"],
                                 "doctor": conv["doctor"]},
                "messages": [render_message(d) for d in docs]}


class AlertResolveHandler(SupervisionHandler):
    body_schema = {"post": Body("alert", note=Text(1000, multiline=True, required=True))}

    async def post(self, alert_id: str) -> None:
        """Resolve an alert with a note."""
        user = await self.supervisor()
        doc = await self.hub.alerts.resolve(user, alert_id, self.json_body().get("note"))
        await self.audit("alert.resolve", alert_id, note=doc["note"])
        self.reply(render_alert(doc))


class AuditHandler(SupervisionHandler):
    query_schema = {"get": {"actor": Id(), "action": Code(), "target": Code(description="对象 id"),
                            "actor_name": Search(description="操作人姓名包含此文字"), "since": Moment(),
                            "until": Moment(), **PAGE}}

    async def get(self) -> None:
        """The operation audit trail of the caller's region (everything for a sysadmin), newest first, by actor
        (id, or ``actor_name`` containing a text), action (exact, or a prefix ending in ``.``: ``account.``),
        target and time."""
        user = await self.supervisor()
        entries, cursor = await self.hub.audit.list(
            region_filter(user), actor=self.get_query_argument("actor", None),
            action=self.get_query_argument("action", None), target=self.get_query_argument("target", None),
            actor_name=self.get_query_argument("actor_name", None), since=self.time_arg("since"),
            until=self.time_arg("until"), limit=self.limit(), cursor=self.get_query_argument("cursor", None))
        self.reply_page([{"id": e["_id"], "actor": e["actor"], "actor_name": e["actor_name"],
                          "actor_role": e["actor_role"], "action": e["action"], "target": e["target"],
                          "address": e["address"], "at": iso(e["at"]), "details": e["details"]}
                         for e in entries], cursor)


ROUTES = [
    (r"/api/sensitive-words", WordsHandler),
    (r"/api/sensitive-words/import", WordsImportHandler),
    (r"/api/sensitive-words/status", WordsStatusHandler),
    (r"/api/sensitive-words/([^/]+)", WordHandler),
    (r"/api/alerts", AlertsHandler),
    (r"/api/alerts/([^/]+)", AlertHandler),
    (r"/api/alerts/([^/]+)/resolve", AlertResolveHandler),
    (r"/api/audit", AuditHandler),
]
