"""Test plugin for notification channels: channels named by ``channel_probe.channels``, each recording what it
receives in ``channel_probe_sends`` and answering as ``channel_probe.behaviour`` says for it
(``name=deliver|accept|skip|fail|raise|hold``; ``hold`` waits ``channel_probe.hold_secs``, then delivers).
A route lets a test notify a user over HTTP (for hub processes killed mid-way)."""

from __future__ import annotations

import asyncio
from typing import Any

from handlers.base import BaseHandler
from hub import Body, Id, Outcome, Setting, Text, hookimpl
from hub.ids import now

BEHAVIOURS = ("deliver", "accept", "skip", "fail", "raise", "hold")


@hookimpl
def register_settings() -> list[Setting]:
    return [Setting("channel_probe.channels", list, ["first", "second"], "Names of the probe's channels."),
            Setting("channel_probe.behaviour", list, [], "name=behaviour for channels that do not deliver."),
            Setting("channel_probe.hold_secs", float, 0.0, "Wait of a 'hold' channel before it delivers.")]


class ProbeChannel:
    def __init__(self, hub: Any, name: str) -> None:
        self.hub = hub
        self.name = name

    def behaviour(self) -> str:
        wanted = dict(e.partition("=")[::2] for e in self.hub.config["channel_probe.behaviour"])
        return wanted.get(self.name, "deliver")

    async def send(self, user: dict, notice: dict) -> Outcome:
        behaviour = self.behaviour()
        await self.hub.db.channel_probe_sends.insert_one({
            "channel": self.name, "notice": notice["id"], "user": user["_id"], "has_password": "password_hash" in user,
            "title": notice["title"], "inbox": notice["inbox"], "behaviour": behaviour, "node": self.hub.node_id,
            "at": now()})
        if behaviour == "raise":
            raise RuntimeError(f"probe channel {self.name} raises on purpose")
        if behaviour == "hold":
            await asyncio.sleep(self.hub.config["channel_probe.hold_secs"])
        return {"deliver": Outcome.delivered(ref=f"{self.name}-ref"), "hold": Outcome.delivered(),
                "accept": Outcome.accepted(ref=f"{self.name}-ref"), "skip": Outcome.skipped("用户未授权"),
                "fail": Outcome.failed("gateway said no")}[behaviour]


@hookimpl
def register_channels(hub: Any) -> list[ProbeChannel]:
    return [ProbeChannel(hub, name) for name in hub.config["channel_probe.channels"]]


class NotifyHandler(BaseHandler):
    body_schema = {"post": Body("probe_notice", user=Id(required=True), title=Text(100, required=True))}

    async def post(self) -> None:
        """Notify a user (test only)."""
        body = self.json_body()
        stored = await self.hub.notices.notify([body["user"]], kind="system", title=body["title"])
        self.reply({"stored": stored})


@hookimpl
def register_routes(hub: Any) -> list[tuple]:
    return [(r"/api/channel_probe/notify", NotifyHandler)]
