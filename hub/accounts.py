"""Accounts and access tokens: staff and resident users, Argon2id password hashes, signed expiring tokens and
login throttling. Scope questions (who may see what) live in ``hub.policy``."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.audit import AuditLog
from hub.errors import Conflict, InvalidCredentials, InvalidInput, NotFound, TooManyAttempts, Unauthorized
from hub.ids import new_id, now
from hub.pages import page
from hub.store import Index

ROLES = ("resident", "doctor", "assistant", "team_leader", "admin", "supervisor", "sysadmin")
STAFF_ROLES = frozenset(ROLES) - {"resident"}
TOKEN_ALGORITHM = "HS256"
PHONE_RE = re.compile(r"^1\d{10}$")
NO_LOGIN_HASH = "!no-login"  # not an Argon2 hash: no password verifies against it
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 256
TOKENS_REVOKED = "tokens_revoked"  # control message: close this user's sockets opened with older tokens
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


async def no_announce(payload: dict[str, Any]) -> None:
    """For an ``Accounts`` used without hub processes to tell (scripts that only create users)."""


def check_new_password(password: Any, field: str = "new_password") -> None:
    if not isinstance(password, str) or not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidInput(f"新密码须为 {MIN_PASSWORD_CHARS} 到 {MAX_PASSWORD_CHARS} 个字符", field=field)


class Accounts:
    """Users, passwords and tokens."""

    def __init__(self, db: AsyncDatabase, secret_key: str, token_ttl_secs: int, *, time_cost: int,
                 memory_kib: int, max_failures: int, lockout_secs: int, audit: AuditLog,
                 announce: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self._users = db.users
        self._failures = db.login_failures
        self._secret = secret_key
        self._ttl = token_ttl_secs
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verified instead when there is no real hash (unknown user, a profile that cannot log in), so that a
        # login costs one Argon2 verification with these parameters whatever the username: no enumeration by time.
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        self._max_failures = max_failures
        self._lockout = lockout_secs
        self._audit = audit
        self._announce = announce

    async def hash_password(self, password: str) -> str:
        """Argon2id is deliberately slow: hash off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self.hasher.hash, password)

    async def _verify(self, hashed: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self.hasher.verify(hashed, password)
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
        if password is not None and len(password) < MIN_PASSWORD_CHARS:
            raise InvalidInput(f"密码至少 {MIN_PASSWORD_CHARS} 位", field="password")
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

    # -- staff placement (the roster's institutions and teams live on the user document) ----------------------

    PLACEMENT_FIELDS = frozenset({"institution_id", "region", "work_type", "title", "profile"})

    async def place_staff(self, user_id: str, **fields: Any) -> None:
        """Put a staff account in an institution (its region is the account's service area)."""
        if unknown := sorted(set(fields) - self.PLACEMENT_FIELDS):
            raise InvalidInput("不能修改这些字段", fields=unknown)
        await self._users.update_one({"_id": user_id}, {"$set": fields})

    async def assign_team(self, team_id: str, *, added: list[str], removed: list[str]) -> None:
        """Team membership as the roster changes it: ``added`` join ``team_id``, ``removed`` leave it."""
        if added:
            await self._users.update_many({"_id": {"$in": added}}, {"$set": {"team_id": team_id}})
        if removed:
            await self._users.update_many({"_id": {"$in": removed}, "team_id": team_id}, {"$set": {"team_id": None}})

    async def page_users(self, query: dict[str, Any], *, limit: int, cursor: str | None
                         ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the accounts matching ``query``, oldest first (the roster's staff lists)."""
        return await page(self._users, query, limit=limit, cursor=cursor, newest_first=False)

    async def login(self, login: str, password: str, address: str) -> TokenGrant:
        """Check a username (or a resident's phone number) and password; throttle repeated failures per
        account and client address. Failures and lockouts are security events of the audit trail."""
        user = await self._users.find_one({"$or": [{"username": login}, {"phone": login, "role": "resident"}]})
        await self._check_attempt(login, user, password, address, "auth.login", InvalidCredentials())
        await self._failures.delete_one({"_id": f"{login}|{address}"})
        if self.hasher.check_needs_rehash(user["password_hash"]):  # type: ignore[index]  # parameters raised since: follow them
            await self._users.update_one({"_id": user["_id"]},  # type: ignore[index]  # as above
                                         {"$set": {"password_hash": await self.hash_password(password)}})
        return self.grant(user)  # type: ignore[arg-type]  # _check_password fails for no user

    async def _check_password(self, user: dict[str, Any] | None, password: str) -> str | None:
        """Why the password does not open the account (None: it does). Always one verification, whoever asks."""
        hashed = (user or {}).get("password_hash")
        real = isinstance(hashed, str) and hashed != NO_LOGIN_HASH
        ok = await self._verify(hashed if real else self._dummy_hash, password)  # type: ignore[arg-type]  # real: hashed is a str
        if user is None:
            return "unknown_user"
        if not real:
            return "no_login"
        if not ok:
            return "wrong_password"
        return "disabled" if user.get("disabled") else None

    async def _security_event(self, action: str, login: str, user: dict[str, Any] | None, address: str,
                              **details: Any) -> None:
        """An unknown login has no region: only sysadmins see it. A known one is the user's region's."""
        subject = f"{user['_id'] if user else 'unknown'}|{address}"
        await self._audit.security_event(action=action, subject=subject, actor=None,
                                         target=user["_id"] if user else "", address=address,
                                         region=(user or {}).get("region", ""), details={"login": login, **details})

    async def _check_attempt(self, login: str, user: dict[str, Any] | None, password: str, address: str,
                             action: str, refusal: InvalidCredentials) -> None:
        """A password attempt (a login, or the old password of a change): throttled per login and address, and a
        failure counted and audited before ``refusal`` is raised."""
        await self._check_throttle(login, user, address, action)
        failure = await self._check_password(user, password)
        if failure:
            await self._count_failure(login, user, address, action, failure)
            raise refusal

    async def _check_throttle(self, login: str, user: dict[str, Any] | None, address: str, action: str) -> None:
        record = await self._failures.find_one({"_id": f"{login}|{address}"})
        if record and record["count"] >= self._max_failures:
            await self._security_event("auth.locked_attempt", login, user, address, during=action)
            raise TooManyAttempts(retry_after_secs=self._lockout)

    async def _count_failure(self, login: str, user: dict[str, Any] | None, address: str, action: str,
                             reason: str) -> None:
        record = await self._failures.find_one_and_update(
            {"_id": f"{login}|{address}"},
            {"$inc": {"count": 1}, "$set": {"expires_at": now() + timedelta(seconds=self._lockout)}},
            upsert=True, return_document=ReturnDocument.AFTER)
        await self._security_event(f"{action}_failed", login, user, address, reason=reason)
        if record["count"] == self._max_failures:  # type: ignore[index]  # as above
            await self._security_event("auth.lockout", login, user, address, during=action,
                                       failures=record["count"], lockout_secs=self._lockout)  # type: ignore[index]  # upserted with ReturnDocument.AFTER: never None

    # -- revocation: logout, password change, disabling --------------------------------------------------------

    async def _update(self, user_id: str, update: dict[str, Any]) -> dict[str, Any]:
        """The user after ``update``; NotFound when there is none."""
        user = await self._users.find_one_and_update({"_id": user_id}, update, return_document=ReturnDocument.AFTER)
        if user is None:
            raise NotFound("用户不存在", id=user_id)
        return user

    async def _revoking_update(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply ``changes`` and end every token of the user at once: the token version moves on (REST checks it
        on every request) and every process closes the user's sockets opened with an older token."""
        user = await self._update(user_id, {"$set": changes, "$inc": {"token_version": 1}})
        await self._announce({"kind": TOKENS_REVOKED, "user": user_id, "version": user["token_version"]})
        return user

    async def revoke_tokens(self, user_id: str) -> dict[str, Any]:
        """Logout: every token of the user stops working, on every process."""
        return await self._revoking_update(user_id, {"tokens_revoked_at": now()})

    async def change_password(self, user: dict[str, Any], old_password: Any, new_password: Any,
                              address: str) -> TokenGrant:
        """The user's own change: the old password is checked (and throttled like a login), every token ends,
        and a fresh one is returned."""
        if not isinstance(old_password, str) or not old_password or len(old_password) > MAX_PASSWORD_CHARS:
            raise InvalidInput("old_password 必填", field="old_password")
        check_new_password(new_password)
        login = user["username"]
        await self._check_attempt(login, user, old_password, address, "auth.password", InvalidCredentials("原密码错误"))
        if new_password == old_password:
            raise InvalidInput("新密码不能与原密码相同", field="new_password")
        await self._failures.delete_one({"_id": f"{login}|{address}"})
        return self.grant(await self.set_password(user["_id"], new_password))

    async def set_password(self, user_id: str, password: Any) -> dict[str, Any]:
        """A new password (an admin's reset, or the user's change); every token of the user ends."""
        check_new_password(password)
        return await self._revoking_update(user_id, {"password_hash": await self.hash_password(password),
                                                     "password_changed_at": now()})

    async def set_disabled(self, user_id: str, disabled: bool) -> dict[str, Any]:
        """Disable (every token ends, no login) or enable an account."""
        if disabled:
            return await self._revoking_update(user_id, {"disabled": True, "disabled_at": now()})
        return await self._update(user_id, {"$set": {"disabled": False}})

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
