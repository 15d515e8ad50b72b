"""Linking an existing roster record to a resident account (关联家庭成员), with proof held by the person.

Anyone who knows a name and an ID number could type them; that proves nothing. So when a resident account adds a
family member the roster already holds (same number and name, no account), the record is not attached: a link
request waits (``pending``) and shows the account nothing of the record — no id, no phone, no signing. Proof
comes from the record's team: the staff who may edit the resident (the holding team's doctors, assistants and
leader, the institution's admin; for a record no team holds, the staff of its area; a sysadmin) see the pending
requests, check with the person (a call to the record's phone, a visit) and confirm or reject. Only a
confirmation attaches the record. Both sides get a notice (kind ``family_link``); every step is audited.
(A verification code sent to the record's phone is the other proof the issue names; it waits for the SMS plugin.)

States: ``pending`` → ``confirmed`` | ``rejected`` | ``withdrawn`` (by the account) | ``superseded`` (another
account's request for the same record was confirmed first, or the record got an account meanwhile).
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub import Conflict, Forbidden, InvalidInput, RequestContext, get_by_id
from hub.ids import iso, new_id, now
from hub.pages import page
from hub.roster import idcard
from hub.roster.scopes import TEAM_ROLES

NOTICE_KIND = "family_link"
STATES = ("pending", "confirmed", "rejected", "withdrawn", "superseded")
FAMILY_MAX = 20  # family members and pending requests of one account
PENDING_SCAN_MAX = 5000  # pending requests looked at to find those a staff member may decide
EDITOR_ROLES = frozenset({*TEAM_ROLES, "admin"})


class WrongState(Conflict):
    code, message = "invalid_state", "该关联申请已处理"


def render_for_account(link: dict[str, Any]) -> dict[str, Any]:
    """What the requesting account sees: what it typed (the number masked), and the record only once confirmed."""
    return {"id": link["_id"], "status": link["status"], "name": link["name"], "id_number": link["id_number"],
            "relation": link["relation"], "created_at": iso(link["created_at"]),
            "decided_at": iso(link.get("decided_at")), "note": link.get("note"),
            "resident_id": link["resident_id"] if link["status"] == "confirmed" else None}


def render_for_staff(link: dict[str, Any]) -> dict[str, Any]:
    return {**render_for_account(link), "resident_id": link["resident_id"], "village": link.get("village"),
            "account": {"id": link["account_id"], "name": link["account_name"], "phone": link.get("account_phone")},
            "decided_by": link.get("decided_by"), "decided_by_name": link.get("decided_by_name")}


def render(user: dict[str, Any], link: dict[str, Any]) -> dict[str, Any]:
    return render_for_account(link) if user["role"] == "resident" else render_for_staff(link)


class FamilyLinks:
    """Family link requests (``signing_family_links``), built once per hub (``service(hub)``)."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.db = hub.db

    async def get_link(self, link_id: str) -> dict[str, Any]:
        return await get_by_id(self.db.signing_family_links, link_id, "关联申请不存在")

    async def family_size(self, account_id: str) -> int:
        members = await self.hub.roster.residents.count_managed(account_id)
        pending = {"account_id": account_id, "status": "pending"}
        return members + await self.db.signing_family_links.count_documents(pending)

    async def request_link(self, ctx: RequestContext, resident: dict[str, Any], relation: str) -> dict[str, Any]:
        """A pending request to attach ``resident`` to the account; asking again returns the pending one."""
        account, address = ctx.actor or {}, ctx.address
        moment = now()
        doc = {"_id": new_id(), "account_id": account["_id"], "account_name": account["name"],
               "account_phone": idcard.mask_phone(account.get("phone")), "resident_id": resident["_id"],
               "name": resident["name"], "id_number": idcard.mask_id_number(resident.get("id_number")),
               "village": resident.get("village"), "relation": relation, "status": "pending",
               "pending_key": f"{account['_id']}:{resident['_id']}", "created_at": moment, "decided_at": None,
               "decided_by": None, "decided_by_name": None, "note": None}
        try:
            await self.db.signing_family_links.insert_one(doc)
        except DuplicateKeyError:
            return await self.db.signing_family_links.find_one({"pending_key": doc["pending_key"]})
        await self.hub.audit.record(actor=account, action="signing.family_link_request", target=doc["_id"],
                                    address=address, region=resident.get("region", ""),
                                    details={"resident_id": resident["_id"], "relation": relation})
        await self.hub.notices.notify(await self.hub.roster.editors_of(resident), kind=NOTICE_KIND,
                                      title="家庭成员关联待确认",
                                 body=f"居民账号{account['name']}申请关联{resident['name']}，请核实本人意愿后确认",
                                 data={"link_id": doc["_id"], "resident_id": resident["_id"], "status": "pending"},
                                 dedupe=f"family_link:{doc['_id']}:pending")
        return doc

    async def list_links(self, user: dict[str, Any], status: str, *, limit: int, cursor: str | None
                         ) -> tuple[list[dict[str, Any]], str | None]:
        """A resident account: its own requests (any state, or ``status``). Staff: the requests in ``status``
        (default pending) for records they may edit."""
        if status and status not in STATES:
            raise InvalidInput(f"status 应为 {' / '.join(STATES)}", field="status")
        if user["role"] == "resident":
            query: dict[str, Any] = {"account_id": user["_id"], **({"status": status} if status else {})}
            return await page(self.db.signing_family_links, query, limit=limit, cursor=cursor)
        if user["role"] not in (*EDITOR_ROLES, "sysadmin"):
            raise Forbidden("当前角色无权处理家庭成员关联", role=user["role"])
        status = status or "pending"
        ids = [d["resident_id"] for d in await self.db.signing_family_links.find(
            {"status": status}, {"resident_id": 1}).limit(PENDING_SCAN_MAX).to_list()]
        visible = await self.hub.roster.residents.visible_ids(user, ids)
        return await page(self.db.signing_family_links, {"status": status, "resident_id": {"$in": visible}},
                          limit=limit, cursor=cursor)

    async def _close(self, link: dict[str, Any], status: str, actor: dict[str, Any] | None, note: str | None
                     ) -> dict[str, Any]:
        """Move a pending request to a final state atomically; a concurrent change makes this ``invalid_state``."""
        updated = await self.db.signing_family_links.find_one_and_update(
            {"_id": link["_id"], "status": "pending"},
            {"$set": {"status": status, "pending_key": link["_id"], "decided_at": now(), "note": note,
                      "decided_by": actor["_id"] if actor else None,
                      "decided_by_name": actor["name"] if actor else None}},
            return_document=ReturnDocument.AFTER)
        if updated is None:
            raise WrongState(link_id=link["_id"])
        return updated

    async def decide(self, ctx: RequestContext, link: dict[str, Any], resident: dict[str, Any], *, confirm: bool,
                     note: str | None) -> dict[str, Any]:
        """The team confirms (the record is attached to the account) or rejects (nothing changes)."""
        actor, address = ctx.actor or {}, ctx.address
        if link["status"] != "pending":
            raise WrongState(link_id=link["_id"], status=link["status"])
        residents = self.hub.roster.residents
        if confirm and link["relation"] == "本人" and await residents.own_record_ids(link["account_id"]):
            raise Conflict("该账号已有本人记录", field="relation", link_id=link["_id"])
        updated = await self._close(link, "confirmed" if confirm else "rejected", actor, note)
        if confirm:
            attached = await self.hub.roster.residents.attach(link["account_id"], link["resident_id"], link["relation"])
            if attached is None:
                await self.db.signing_family_links.update_one({"_id": link["_id"]}, {"$set": {"status": "superseded"}})
                raise Conflict("该居民已被其他账号管理", reason="managed_elsewhere", link_id=link["_id"])
            await self.db.signings.update_many({"resident_id": link["resident_id"]},
                                              {"$set": {"account_id": link["account_id"]}})
        await self.hub.audit.record(actor=actor, action="signing.family_link_" + ("confirm" if confirm else "reject"),
                               target=link["_id"], address=address, region=resident.get("region", ""),
                               details={"resident_id": link["resident_id"], "account_id": link["account_id"]})
        await self._tell_account(updated)
        if confirm:
            await self._supersede_others(link)
        return updated

    async def _supersede_others(self, confirmed: dict[str, Any]) -> None:
        others = await self.db.signing_family_links.find({"resident_id": confirmed["resident_id"], "status": "pending"}
                                                ).to_list(100)
        for other in others:
            try:
                await self._tell_account(await self._close(other, "superseded", None, None))
            except WrongState:
                continue  # withdrawn meanwhile

    async def withdraw(self, ctx: RequestContext, link: dict[str, Any]) -> dict[str, Any]:
        """The account takes back its own pending request."""
        account, address = ctx.actor or {}, ctx.address
        if link["account_id"] != account["_id"]:
            raise Forbidden("只能撤回自己的申请", link_id=link["_id"])
        updated = await self._close(link, "withdrawn", account, None)
        await self.hub.audit.record(actor=account, action="signing.family_link_withdraw", target=link["_id"],
                               address=address, details={"resident_id": link["resident_id"]})
        return updated

    async def _tell_account(self, link: dict[str, Any]) -> None:
        titles = {"confirmed": "家庭成员关联已确认", "rejected": "家庭成员关联未通过",
                  "superseded": "家庭成员关联未通过"}
        await self.hub.notices.notify([link["account_id"]], kind=NOTICE_KIND, title=titles[link["status"]],
                                 body=f"{link['name']}（{link['relation']}）", data=render_for_account(link),
                                 dedupe=f"family_link:{link['_id']}:{link['status']}")


def service(hub: Any) -> FamilyLinks:
    """The hub's one ``FamilyLinks`` (kept in ``hub.plugin_state["signing"]``, built on first use)."""
    state = hub.plugin_state.setdefault("signing", {})
    if "links" not in state:
        state["links"] = FamilyLinks(hub)
    return state["links"]
