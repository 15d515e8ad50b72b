"""``POST /api/auth/token``: log in with a username (or a resident's phone number) and password."""

from __future__ import annotations

from handlers.base import BaseHandler
from hub.accounts import public_user
from hub.errors import InvalidInput
from hub.schema import Body, Code, Secret


class TokenHandler(BaseHandler):
    public = True
    body_schema = {"post": Body("login", username=Code(pattern=r"^\S{1,64}$", required=True,
                                                        description="用户名或居民手机号"),
                                  password=Secret(required=True))}

    async def post(self) -> None:
        """Exchange a username and password for an access token."""
        body = self.json_body()
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not username or len(username) > 64:
            raise InvalidInput("username 必填", field="username")
        if not isinstance(password, str) or not password or len(password) > 256:
            raise InvalidInput("password 必填", field="password")
        grant = await self.hub.accounts.login(username, password, self.address)
        self.current_user = grant.user
        await self.audit("auth.login", grant.user["_id"])
        self.reply(grant.as_dict())


class MeHandler(BaseHandler):
    async def get(self) -> None:
        """The caller's own account."""
        user = await self.authenticate()
        self.reply({**public_user(user), "username": user["username"], "region": user.get("region", ""),
                    "scope": await self.scope_of(user)})

    async def scope_of(self, user: dict) -> dict:
        """Where the account works, by name, for the shells' header: its region, institution and team."""
        db = self.hub.db
        region = user.get("region") or ""
        found = await db.regions.find_one({"_id": region}, {"name": 1}) if region else None
        inst = user.get("institution_id") or ""
        institution = await db.institutions.find_one({"_id": inst}, {"name": 1}) if inst else None
        team_id = user.get("team_id") or ""
        team = await db.teams.find_one({"_id": team_id}, {"name": 1}) if team_id else None
        return {"region": region, "region_name": (found or {}).get("name", ""), "institution": inst,
                "institution_name": (institution or {}).get("name", ""), "team": team_id,
                "team_name": (team or {}).get("name", "")}


ROUTES = [
    (r"/api/auth/token", TokenHandler),
    (r"/api/me", MeHandler),
]
