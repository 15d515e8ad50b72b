"""The notices of service requests (kind ``service``), both ways: a new request reaches the doctors, assistants
and leader of the resident's team; each step the team takes (accepted, scheduled, completed, declined) reaches
the account that asked, and a cancellation reaches the team. Sent by a durable subscriber of the request events
(at least once; the dedupe key keeps it to one notice per person and step), so a failing notice never fails the
request itself. ``data.links`` names the screen per app (the screens come with the next increment)."""

from __future__ import annotations

from typing import Any

from hub import Event, Subscriber
from hub.ids import iso
from hub.roster.scopes import TEAM_ROLES

NOTICE_KIND = "service"
TEAM_LINKS = {"h5": "/services/requests"}
RESIDENT_LINKS = {"h5": "/services/mine"}
TO_TEAM = {"pending": ("新的服务申请", "，请及时处理。"), "cancelled": ("服务申请已取消", "，已由居民取消。")}
TO_RESIDENT = {"accepted": ("服务申请已受理", "您为{name}申请的{item}已受理。"),
               "scheduled": ("服务已预约", "您为{name}申请的{item}已安排在{when}。"),
               "completed": ("服务已完成", "您为{name}申请的{item}已完成。"),
               "declined": ("服务申请未受理", "您为{name}申请的{item}未受理：{reason}")}


async def team_staff(hub: Any, team_id: str) -> list[str]:
    team = await hub.roster.teams.find(team_id)
    if team is None:
        return []
    users = await hub.accounts.find_users(list(team.get("members", [])))
    return [u for u in team.get("members", []) if users.get(u, {}).get("role") in TEAM_ROLES]


def subscribers(hub: Any) -> list[Subscriber]:
    async def on_request(event: Event) -> None:
        request = await hub.db.services_requests.find_one({"_id": event.payload["request_id"]})
        if request is None:
            return
        status = event.payload["status"]
        data = {"request_id": request["_id"], "resident_id": request["resident_id"], "status": status}
        key = f"service:{event.id}"
        name, item = request.get("resident_name") or "", request["item"]
        if status in ("pending", "cancelled"):
            title, tail = TO_TEAM[status]
            await hub.notices.notify(await team_staff(hub, request["team_id"]), kind=NOTICE_KIND, title=title,
                                     body=f"{name}申请{item}{tail}",
                                     data={**data, "links": TEAM_LINKS}, dedupe=key)
        elif status in TO_RESIDENT:
            title, body = TO_RESIDENT[status]
            when = iso(request.get("scheduled_at")) or ""
            await hub.notices.notify([request["account_id"]], kind=NOTICE_KIND, title=title,
                                     body=body.format(name=name, item=item, when=when[:16].replace("T", " "),
                                                      reason=request.get("reason") or ""),
                                     data={**data, "links": RESIDENT_LINKS}, dedupe=key)
    return [Subscriber("request_notices", ("service.requested", "service.request_changed"), on_request)]
