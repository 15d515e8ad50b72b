"""Ending sessions and administering accounts: logout, password change, disable, enable and password reset.
Each ends every token of the account at once, on every hub process, and is audited."""

from __future__ import annotations

import re
from typing import Any

from handlers.base import BaseHandler
from hub.accounts import public_user
from hub.errors import Forbidden, InvalidInput
from hub.ids import iso
from hub.policy import account_admin_filter, creatable_roles, require_account_admin
from hub.roster.teams import STAFF_ROLES_BY_SYSADMIN, WORK_TYPES
from hub.schema import PAGE, Body, Bool, Code, Enum, Id, Phone, Search, Secret, Text

MAX_INSTITUTION_OPTIONS = 500


def render_account(user: dict[str, Any]) -> dict[str, Any]:
    return {**public_user(user), "username": user["username"], "disabled": bool(user.get("disabled"))}


def render_staff_account(user: dict[str, Any], institutions: dict[str, str],
                         regions: dict[str, str] | None = None) -> dict[str, Any]:
    """An account as its administrators list it (no phone number, no password data)."""
    institution_id = user.get("institution_id")
    region = user.get("region", "")
    return {**render_account(user), "region": region, "region_name": (regions or {}).get(region, ""),
            "institution_id": institution_id,
            "institution_name": institutions.get(institution_id or "", ""), "team_id": user.get("team_id"),
            "work_type": user.get("work_type"), "title": user.get("title", ""),
            "created_at": iso(user.get("created_at"))}


ACCOUNT = Body("account", role=Enum(values=STAFF_ROLES_BY_SYSADMIN, required=True),
               username=Code(pattern=r"^[A-Za-z0-9._@-]{1,64}$", required=True), password=Secret(required=True),
               name=Text(30, required=True), phone=Phone(nullable=True), institution_id=Id(nullable=True),
               region=Code(pattern=r"^\d{12}$", most=12, nullable=True),
               work_type=Enum(values=WORK_TYPES, nullable=True), title=Text(30))


class AccountsHandler(BaseHandler):
    query_schema = {"get": {"role": Enum(values=STAFF_ROLES_BY_SYSADMIN),
                            "q": Search(description="姓名或用户名包含此文字"), "disabled": Bool(),
                            "institution_id": Id(), **PAGE}}
    body_schema = {"post": ACCOUNT}

    async def names_of_institutions(self, users: list[dict[str, Any]]) -> dict[str, str]:
        ids = sorted({u["institution_id"] for u in users if u.get("institution_id")})
        if not ids:
            return {}
        return {d["_id"]: d["name"] async for d in self.hub.db.institutions.find({"_id": {"$in": ids}}, {"name": 1})}

    async def names_of_regions(self, users: list[dict[str, Any]]) -> dict[str, str]:
        codes = sorted({u["region"] for u in users if u.get("region")})
        if not codes:
            return {}
        return {d["_id"]: d["name"] async for d in self.hub.db.regions.find({"_id": {"$in": codes}}, {"name": 1})}

    async def get(self) -> None:
        """The staff accounts the caller administers (a sysadmin every staff account, an institution admin their
        institution's doctors, assistants and team leaders), oldest first, narrowed by ``role``, ``q`` (name or
        username containing it), ``disabled`` and ``institution_id``. Others get 403."""
        user = await self.authenticate()
        query: dict[str, Any] = account_admin_filter(user)
        clauses = [query]
        if role := self.get_query_argument("role", ""):
            clauses.append({"role": role})
        if q := self.get_query_argument("q", "").strip():
            pattern = re.escape(q)
            clauses.append({"$or": [{"name": {"$regex": pattern}}, {"username": {"$regex": pattern}}]})
        if (disabled := self.get_query_argument("disabled", "")) != "":
            clauses.append({"disabled": disabled in ("true", "1")})
        if institution_id := self.get_query_argument("institution_id", ""):
            clauses.append({"institution_id": institution_id})
        users, cursor = await self.hub.accounts.page_users({"$and": clauses} if len(clauses) > 1 else query,
                                                           limit=self.limit(),
                                                           cursor=self.get_query_argument("cursor", None))
        names, regions = await self.names_of_institutions(users), await self.names_of_regions(users)
        self.reply_page([render_staff_account(u, names, regions) for u in users], cursor)

    async def post(self) -> None:
        """Create a staff account: a sysadmin any staff role (an institution's staff with ``institution_id``, a
        supervisor with ``region``), an institution admin doctors, assistants and team leaders of their own
        institution. Audited (``account.create``) in the account's region. → 201 and the account."""
        actor = await self.authenticate()
        allowed = creatable_roles(actor)
        if not allowed:
            raise Forbidden("无权创建账号", role=actor["role"])
        body = self.json_body()
        if body["role"] not in allowed:
            raise InvalidInput(f"角色应为 {' / '.join(allowed)}", field="role")
        created = await self.hub.roster.staff.create(actor, {k: v for k, v in body.items() if v is not None})
        await self.hub.audit.record(actor=actor, action="account.create", target=created["_id"], address=self.address,
                                    region=created.get("region", ""),
                                    details={"username": created["username"], "role": created["role"],
                                             "institution_id": created.get("institution_id")})
        self.reply(render_staff_account(created, await self.names_of_institutions([created]),
                                        await self.names_of_regions([created])), 201)


class AccountOptionsHandler(BaseHandler):
    async def get(self) -> None:
        """What the caller may choose when creating an account: ``{"roles": [...], "work_types": [...],
        "institutions": [{id, name, region}]}`` (a sysadmin every institution, up to 500; an admin their own)."""
        actor = await self.authenticate()
        roles = creatable_roles(actor)
        if not roles:
            raise Forbidden("无权创建账号", role=actor["role"])
        query = {} if actor["role"] == "sysadmin" else {"_id": actor["institution_id"]}
        docs = await self.hub.db.institutions.find(query, {"name": 1, "region": 1}).sort("_id", 1).to_list(
            MAX_INSTITUTION_OPTIONS)
        self.reply({"roles": list(roles), "work_types": list(WORK_TYPES),
                    "institutions": [{"id": d["_id"], "name": d["name"], "region": d["region"]} for d in docs]})


class LogoutHandler(BaseHandler):
    body_schema = {"post": Body("logout")}  # no fields

    async def post(self) -> None:
        """Log out: end every access token of the caller.

        Their open sockets close (4001) on every hub process. Answers ``{"logged_out": true}``."""
        user = await self.authenticate()
        await self.hub.accounts.revoke_tokens(user["_id"])
        await self.audit("auth.logout", user["_id"])
        self.reply({"logged_out": True})


class PasswordHandler(BaseHandler):
    body_schema = {"post": Body("password", old_password=Secret(required=True), new_password=Secret(required=True))}

    async def post(self) -> None:
        """Change the caller's own password and get a fresh token.

        Body ``{"old_password", "new_password"}`` (8 to 256 characters). Every token of the caller ends and their
        sockets close (4001); the reply is a fresh token, as from ``POST /api/auth/token``. A wrong old password
        counts as a failed login (lockout, audit)."""
        user = await self.authenticate()
        body = self.json_body()
        grant = await self.hub.accounts.change_password(user, body["old_password"], body["new_password"], self.address)
        await self.audit("auth.password_change", user["_id"])
        self.reply(grant.as_dict())


class AccountAdminHandler(BaseHandler):
    body_schema = {"post": Body("account")}  # disable and enable take no fields

    async def account(self, user_id: str) -> dict[str, Any]:
        """The account the caller may administer (``hub.policy.require_account_admin``)."""
        actor = await self.authenticate()
        account = await self.hub.accounts.get_user(user_id)
        require_account_admin(actor, account)
        return account

    async def audit_account(self, action: str, account: dict[str, Any]) -> None:
        """Audited in the account's region, so that its supervisors see it."""
        await self.hub.audit.record(actor=self.current_user, action=action, target=account["_id"],
                                    address=self.address, region=account.get("region", ""),
                                    details={"username": account["username"], "role": account["role"]})


class AccountDisableHandler(AccountAdminHandler):
    async def post(self, user_id: str) -> None:
        """Disable an account and end every token of it.

        It cannot log in; its sockets close (4001) on every hub process. A sysadmin may disable any other account,
        an institution admin the doctors, assistants and team leaders of their own institution; other roles
        (supervisors included) get 403."""
        account = await self.account(user_id)
        account = await self.hub.accounts.set_disabled(account["_id"], True)
        await self.audit_account("account.disable", account)
        self.reply(render_account(account))


class AccountEnableHandler(AccountAdminHandler):
    async def post(self, user_id: str) -> None:
        """Enable a disabled account again (who may: as for disable). Old tokens stay ended; the user logs in."""
        account = await self.account(user_id)
        account = await self.hub.accounts.set_disabled(account["_id"], False)
        await self.audit_account("account.enable", account)
        self.reply(render_account(account))


class AccountPasswordHandler(AccountAdminHandler):
    body_schema = {"post": Body("account", new_password=Secret(required=True))}

    async def post(self, user_id: str) -> None:
        """Reset an account's password and end every token of it.

        Body ``{"new_password"}`` (8 to 256 characters); who may: as for disable. Its sockets close (4001)."""
        account = await self.account(user_id)
        account = await self.hub.accounts.set_password(account["_id"], self.json_body()["new_password"])
        await self.audit_account("account.password_reset", account)
        self.reply(render_account(account))


ROUTES = [
    (r"/api/accounts", AccountsHandler),
    (r"/api/accounts/options", AccountOptionsHandler),
    (r"/api/auth/logout", LogoutHandler),
    (r"/api/auth/password", PasswordHandler),
    (r"/api/accounts/([^/]+)/disable", AccountDisableHandler),
    (r"/api/accounts/([^/]+)/enable", AccountEnableHandler),
    (r"/api/accounts/([^/]+)/password", AccountPasswordHandler),
]
