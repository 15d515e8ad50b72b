"""Accounts and access tokens: staff and resident users, Argon2id password hashes, signed expiring tokens and
login throttling. Scope questions (who may see what) live in ``hub.policy``."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, InvalidCredentials, InvalidInput, NotFound, TooManyAttempts, Unauthorized
from hub.ids import new_id, now
from hub.store import Index

ROLES = ("resident", "doctor", "assistant", "team_leader", "admin", "supervisor", "sysadmin")
STAFF_ROLES = frozenset(ROLES) - {"resident"}
TOKEN_ALGORITHM = "HS256"
PHONE_RE = re.compile(r"^1\d{10}$")
NO_LOGIN_HASH = "!no-login"  # not an Argon2 hash: no password verifies against it
# Optional fields of a staff account that are public: 职称, 工作类型 (全科医生, 家庭助理 …), 简介.
PUBLIC_PROFILE_FIELDS = ("title", "work_type", "profile")

INDEXES = [
    Index("users", [("username", 1)], "username_unique", unique=True),
    Index("users", [("phone", 1)], "phone"),
    Index("users", [("role", 1), ("region", 1)], "role_region"),
    Index("login_failures", [("expires_at", 1)], "expires_ttl", options={"expireAfterSeconds": 0}),
]


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    user: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "bearer", "expires_in": self.expires_in,
                "user": public_user(self.user)}


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    """The fields of a user anyone in a conversation may see."""
    return {"id": user["_id"], "role": user["role"], "name": user["name"]}


def public_profile(user: dict[str, Any]) -> dict[str, Any]:
    """A staff member as residents see them in a directory: ``public_user`` and the profile fields, never the
    phone number, username or anything else of the account."""
    return {**public_user(user), **{name: user.get(name) or "" for name in PUBLIC_PROFILE_FIELDS}}


class Accounts:
    """Users, passwords and tokens."""

    def __init__(self, db: AsyncDatabase, secret_key: str, token_ttl_secs: int, *, time_cost: int,
                 memory_kib: int, max_failures: int, lockout_secs: int) -> None:
        self._users = db.users
        self._failures = db.login_failures
        self._secret = secret_key
        self._ttl = token_ttl_secs
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._max_failures = max_failures
        self._lockout = lockout_secs

    async def hash_password(self, password: str) -> str:
        """Argon2id is deliberately slow: hash off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self._hasher.hash, password)

    async def _verify(self, hashed: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(hashed, password)
            except (VerificationError, InvalidHashError):
                return False
        return await asyncio.get_running_loop().run_in_executor(None, check)

    async def create_user(self, *, username: str, password: str | None, role: str, name: str,
                          phone: str | None = None, region: str = "", user_id: str | None = None,
                          **extra: Any) -> dict[str, Any]:
        """Create an account; the username (and phone, when given) must be free. ``password=None`` makes a profile
        that cannot log in (a team member on record only)."""
        if role not in ROLES:
            raise InvalidInput(f"未知角色 {role}", field="role")
        if password is not None and len(password) < 8:
            raise InvalidInput("密码至少 8 位", field="password")
        if phone is not None and not PHONE_RE.match(phone):
            raise InvalidInput("手机号格式不正确", field="phone")
        if phone and await self._users.find_one({"phone": phone}, {"_id": 1}):
            raise Conflict("手机号已被使用", field="phone")
        user = {"_id": user_id or new_id(), "username": username, "phone": phone, "role": role, "name": name,
                "region": region, "disabled": False,
                "password_hash": NO_LOGIN_HASH if password is None else await self.hash_password(password),
                "token_version": 0, "created_at": now(), **extra}
        try:
            await self._users.insert_one(user)
        except DuplicateKeyError:
            raise Conflict("用户名已存在", field="username") from None
        return user

    async def get_user(self, user_id: str) -> dict[str, Any]:
        user = await self._users.find_one({"_id": user_id})
        if user is None:
            raise NotFound("用户不存在", id=user_id)
        return user

    async def find_users(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {u["_id"]: u async for u in self._users.find({"_id": {"$in": ids}})}

    async def login(self, login: str, password: str, address: str) -> TokenGrant:
        """Check a username (or a resident's phone number) and password; throttle repeated failures per
        account and client address."""
        key = f"{login}|{address}"
        record = await self._failures.find_one({"_id": key})
        if record and record["count"] >= self._max_failures:
            raise TooManyAttempts(retry_after_secs=self._lockout)
        user = await self._users.find_one({"$or": [{"username": login}, {"phone": login, "role": "resident"}]})
        ok = user is not None and not user.get("disabled") and await self._verify(user["password_hash"], password)
        if not ok:
            await self._failures.update_one(
                {"_id": key}, {"$inc": {"count": 1}, "$set": {"expires_at": now() + timedelta(seconds=self._lockout)}},
                upsert=True)
            raise InvalidCredentials()
        if record:
            await self._failures.delete_one({"_id": key})
        return self.grant(user)

    def grant(self, user: dict[str, Any]) -> TokenGrant:
        """A signed access token for the user."""
        issued = now()
        claims = {"sub": user["_id"], "role": user["role"], "ver": user.get("token_version", 0),
                  "iat": issued, "exp": issued + timedelta(seconds=self._ttl), "typ": "access"}
        return TokenGrant(jwt.encode(claims, self._secret, algorithm=TOKEN_ALGORITHM), self._ttl, user)

    async def authenticate(self, token: str | None) -> dict[str, Any]:
        """The user a token belongs to, or Unauthorized: forged, expired, revoked or of a disabled account."""
        if not token or not isinstance(token, str):
            raise Unauthorized()
        try:
            claims = jwt.decode(token, self._secret, algorithms=[TOKEN_ALGORITHM],
                                options={"require": ["sub", "exp", "iat"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("登录已过期，请重新登录", reason="expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("令牌无效", reason="invalid") from None
        user = await self._users.find_one({"_id": claims["sub"]})
        if (user is None or user.get("disabled") or claims.get("typ") != "access"
                or claims.get("ver") != user.get("token_version", 0)):
            raise Unauthorized("令牌无效", reason="revoked")
        return user
