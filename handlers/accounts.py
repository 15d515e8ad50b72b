"""Ending sessions and administering accounts: logout, password change, disable, enable and password reset.
Each ends every token of the account at once, on every hub process, and is audited."""

from __future__ import annotations

from typing import Any

from handlers.base import BaseHandler
from hub.accounts import public_user
from hub.policy import require_account_admin
from hub.schema import Body, Secret


def render_account(user: dict[str, Any]) -> dict[str, Any]:
    return {**public_user(user), "username": user["username"], "disabled": bool(user.get("disabled"))}


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
    (r"/api/auth/logout", LogoutHandler),
    (r"/api/auth/password", PasswordHandler),
    (r"/api/accounts/([^/]+)/disable", AccountDisableHandler),
    (r"/api/accounts/([^/]+)/enable", AccountEnableHandler),
    (r"/api/accounts/([^/]+)/password", AccountPasswordHandler),
]
