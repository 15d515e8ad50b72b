"""The worked example of ``docs/plugins.md``: a plugin that greets residents.

It shows every kind of hook: a setting, a route, an index, a notice kind, an event subscriber, a scheduled job,
a consultation answer and a console page (``register_screens``). It is off by default
(``[plugins] example_greeter = true`` switches it on); the tests load it.
"""

from __future__ import annotations

from pathlib import Path

from handlers.base import BaseHandler
from hub import Body, Event, Hub, Id, Index, Job, Page, Screens, Setting, Subscriber, Text, hookimpl
from hub.ids import iso, new_id, now

NOTICE_KIND = "greeting"
# Its routes live under /api/greeter/ besides its own /api/example_greeter/: an extra prefix is declared here, or
# start-up refuses them.
route_prefixes = ("/api/greeter/",)
STATIC_DIR = Path(__file__).parent / "static"


@hookimpl
def register_settings() -> list[Setting]:
    return [Setting("example_greeter.greeting", str, "您好", "The greeting sent to residents.")]


@hookimpl
def register_notice_kinds() -> list[str]:
    return [NOTICE_KIND]


@hookimpl
def register_indexes() -> list[Index]:
    return [Index("greetings", [("user", 1), ("_id", -1)], "user_id")]


class GreetingsHandler(BaseHandler):
    # The declared body is checked (types, lengths, control characters) and its text screened before ``post``
    # runs: ``json_body()`` returns the checked values, the text masked where a word says so.
    body_schema = {"post": Body("greeting", text=Text(200, multiline=True, required=True), to=Id(required=True))}

    async def post(self) -> None:
        """Leave a greeting for another user: screened, stored, audited and delivered as a notice."""
        user = await self.authenticate()
        body = self.json_body()
        target = await self.hub.accounts.get_user(body["to"])
        greeting_id = new_id()
        doc = {"_id": greeting_id, "user": target["_id"], "from": user["_id"], "text": body["text"], "at": now()}
        await self.hub.db.greetings.insert_one(doc)
        await self.audit("greeting.create", greeting_id, to=target["_id"])
        await self.hub.notices.notify([target["_id"]], kind=NOTICE_KIND, title="问候", body=body["text"],
                                      data={"greeting": greeting_id}, dedupe=f"greeting:{greeting_id}")
        self.reply({"id": greeting_id, "text": body["text"], "at": iso(doc["at"])}, 201)


@hookimpl
def register_routes(hub: Hub) -> list[tuple]:
    return [(r"/api/greeter/greetings", GreetingsHandler)]


@hookimpl
def register_subscribers(hub: Hub) -> list[Subscriber]:
    async def greet_new_consultation(event: Event) -> None:
        # Delivered at least once: the dedupe key makes a repeated delivery store no second notice.
        conv = event.payload["conv"]
        await hub.notices.notify([event.payload["resident_id"]], kind=NOTICE_KIND, title="问候",
                                 body=hub.config["example_greeter.greeting"], data={"conv": conv},
                                 dedupe=f"greeting:conv:{conv}")
    return [Subscriber("greet_new_consultation", ("consultation.opened",), greet_new_consultation)]


@hookimpl
def register_jobs(hub: Hub) -> list[Job]:
    async def count_greetings() -> None:
        total = await hub.db.greetings.count_documents({})
        await hub.db.hub_state.update_one({"_id": "greeter_stats"}, {"$set": {"total": total, "at": now()}},
                                          upsert=True)
    return [Job("example_greeter.count", 1.0, count_greetings)]


@hookimpl
def register_screens(hub: Hub) -> Screens:
    # One console page: a module under static/ that the core serves at /plugins/example_greeter/static/.
    return Screens(STATIC_DIR, (
        Page("console", "/greeter/send", "问候", "console/greet.js", ("doctor", "assistant", "team_leader"),
             menu="示例", order=10),
    ))
