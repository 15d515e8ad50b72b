"""The notices of the signing workflow (kind ``signing``): a new application reaches the doctors of its team, a
decision on it (approved, rejected) reaches the account that applied. Each notice's ``data.links`` names the
screen it is about per app (``{"h5": "/doctor/review", "console": "/signing/review?tab=pending"}``), so a tap on
it in the bell opens that screen.

Sent by a durable subscriber of the signing events (at least once; the dedupe key keeps it to one notice per
person and step), so a failing notice never fails the signing itself."""

from __future__ import annotations

from typing import Any

from hub import Event, Subscriber
from plugins.signing import scopes

NOTICE_KIND = "signing"
# The screens a notice opens, per app (the H5 pages are declared in ``screens``).
REVIEW_LINKS = {"h5": "/doctor/review", "console": "/signing/review?tab=pending"}
APPLICANT_LINKS = {"h5": "/signing/apply"}
DECISIONS = {"signing.approved": ("签约申请已通过", "您为{name}提交的家庭医生签约申请已通过，签约医生：{doctor}。"),
             "signing.rejected": ("签约申请未通过", "您为{name}提交的家庭医生签约申请未通过：{reason}")}


async def team_doctors(hub: Any, team_id: str) -> list[str]:
    """The members of a team who may review its applications (doctors and the leader)."""
    team = await hub.roster.teams.find(team_id)
    if team is None:
        return []
    users = await hub.accounts.find_users(list(team.get("members", [])))
    return [u for u in team.get("members", []) if users.get(u, {}).get("role") in scopes.SIGNING_ROLES]


async def tell_team(hub: Any, signing: dict[str, Any]) -> None:
    await hub.notices.notify(await team_doctors(hub, signing["team_id"]), kind=NOTICE_KIND, title="新的签约申请",
                             body=f"{signing['resident_name']}申请签约，请及时审核。",
                             data={"signing_id": signing["_id"], "status": signing["status"],
                                   "links": REVIEW_LINKS},
                             dedupe=f"signing:{signing['_id']}:applied")


async def tell_applicant(hub: Any, signing: dict[str, Any], event_name: str) -> None:
    if not signing.get("account_id"):
        return
    title, body = DECISIONS[event_name]
    await hub.notices.notify([signing["account_id"]], kind=NOTICE_KIND, title=title,
                             body=body.format(name=signing["resident_name"], doctor=signing.get("doctor_name", ""),
                                              reason=signing.get("reason") or ""),
                             data={"signing_id": signing["_id"], "resident_id": signing["resident_id"],
                                   "status": signing["status"], "links": APPLICANT_LINKS},
                             dedupe=f"signing:{signing['_id']}:{event_name}")


def subscribers(hub: Any) -> list[Subscriber]:
    async def on_application(event: Event) -> None:
        signing = await hub.db.signings.find_one({"_id": event.payload["signing_id"]})
        if signing is None or signing["mode"] != "apply":
            return
        if event.name == "signing.created":
            await tell_team(hub, signing)
        else:
            await tell_applicant(hub, signing, event.name)
    return [Subscriber("application_notices", ("signing.created", *DECISIONS), on_application)]
