"""``GET /healthz``: 200 when MongoDB (and Redis, when configured) answer, else 503."""

from __future__ import annotations

from handlers.base import BaseHandler
from hub.store import ping


class HealthHandler(BaseHandler):
    async def get(self) -> None:
        """Whether this process can reach its database and broker."""
        mongo = await ping(self.hub.client)
        broker = await self.hub.broker.healthy()
        ok = mongo and broker and not self.hub.shutting_down
        self.reply({"status": "ok" if ok else "unavailable", "mongo": mongo, "broker": broker,
                    "node": self.hub.node_id, "sessions": len(self.hub.sessions),
                    "screening_version": self.hub.words.engine.version}, 200 if ok else 503)


ROUTES = [(r"/healthz", HealthHandler)]
