"""Live sockets on this process, by user, each with a bounded outgoing queue.

A slow or stalled reader must never slow the others (guarantee 5): frames for a socket wait in its own queue,
written by a short-lived task that exists only while the queue is not empty (an idle socket costs no task);
when the queue passes its bound the socket is closed with 4008 and the client catches up with ``sync``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from hub.errors import TooManySockets
from hub.ratelimit import FrameLimiter

log = logging.getLogger(__name__)

WS_4008_POLICY = 4008
WS_1001_GOING_AWAY = 1001


class Transport(Protocol):
    """What a session needs of its socket (Tornado's WebSocketHandler has all of it)."""

    def write_message(self, message: str) -> Any: ...
    def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class Session:
    """One authenticated socket of one user."""

    __slots__ = ("id", "user", "transport", "_queue", "_queued_bytes", "_writer", "_max_frames", "_max_bytes",
                 "closed", "__weakref__")

    def __init__(self, session_id: str, user: dict[str, Any], transport: Transport, *, max_frames: int,
                 max_bytes: int) -> None:
        self.id = session_id
        self.user = user
        self.transport = transport
        self._queue: deque[str] = deque()
        self._queued_bytes = 0
        self._writer: asyncio.Task | None = None
        self._max_frames = max_frames
        self._max_bytes = max_bytes
        self.closed = False

    @property
    def user_id(self) -> str:
        return self.user["_id"]

    def send(self, text: str) -> None:
        """Queue one frame; close the socket with 4008 if the reader has fallen too far behind."""
        if self.closed:
            return
        if len(self._queue) >= self._max_frames or self._queued_bytes + len(text) > self._max_bytes:
            log.warning("session %s of %s: reader too slow (%d frames queued); closing 4008",
                        self.id, self.user_id, len(self._queue))
            self.close(WS_4008_POLICY, "slow consumer")
            return
        self._queue.append(text)
        self._queued_bytes += len(text)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue and not self.closed:
                if not await self._write_burst():
                    self.closed = True  # the socket went away under us; the handler cleans up on close
        finally:
            self._writer = None

    async def _write_burst(self) -> bool:
        """Hand everything queued to the socket at once and wait for those writes: one await per burst, not per
        frame. Frames handed over leave our bound; one burst at most waits in Tornado's buffer while a stalled
        reader fills our queue up to the bound. Every write's outcome is collected, not only the last: when the
        socket goes away each pending write fails, and one left unretrieved would be logged with its traceback
        (hundreds per dropped reader). False when the socket is gone."""
        pending = []
        failed = False
        while self._queue and not failed:
            text = self._queue.popleft()
            self._queued_bytes -= len(text)
            try:
                pending.append(self.transport.write_message(text))
            except Exception:  # already closing
                failed = True
        outcomes = await asyncio.gather(*(p for p in pending if p is not None), return_exceptions=True)
        return not failed and not any(isinstance(o, BaseException) for o in outcomes)

    def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self._queued_bytes = 0
        try:
            self.transport.close(code, reason)
        except Exception:
            log.exception("closing session %s failed", self.id)


@dataclass(frozen=True)
class UserLimits:
    """What one user may hold on this process: sockets at once, and frames across all of them."""

    max_sockets: int = 5
    rate_per_sec: float = 20.0
    burst: int = 60
    max_strikes: int = 20

    def new_limiter(self) -> FrameLimiter:
        return FrameLimiter(self.rate_per_sec, self.burst, self.max_strikes)


class SessionRegistry:
    """The sessions of this process by user id, and each user's frame limiter, shared by their sockets."""

    def __init__(self, limits: UserLimits | None = None) -> None:
        self.limits = limits or UserLimits()
        self._by_user: dict[str, set[Session]] = {}
        self._limiters: dict[str, FrameLimiter] = {}

    def add(self, session: Session) -> FrameLimiter:
        """Register an authenticated socket and return its user's limiter; TooManySockets (nothing registered)
        when the user already holds ``max_sockets`` here."""
        if len(self._by_user.get(session.user_id, ())) >= self.limits.max_sockets:
            raise TooManySockets(limit=self.limits.max_sockets)
        self._by_user.setdefault(session.user_id, set()).add(session)
        return self._limiters.setdefault(session.user_id, self.limits.new_limiter())

    def remove(self, session: Session) -> None:
        sessions = self._by_user.get(session.user_id)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._by_user[session.user_id]
                self._forget_limiter_later(session.user_id)

    def _forget_limiter_later(self, user_id: str) -> None:
        """Keep the limiter of a user with no socket left until its bucket has refilled: closing every socket
        and opening new ones must not buy a fresh burst."""
        limiter = self._limiters.get(user_id)
        if limiter is None:
            return

        def forget() -> None:
            if user_id not in self._by_user and self._limiters.get(user_id) is limiter:
                del self._limiters[user_id]

        try:
            asyncio.get_running_loop().call_later(limiter.bucket.secs_to_full(), forget)
        except RuntimeError:  # no loop (shutting down): nothing to keep it for
            forget()

    def of_user(self, user_id: str) -> set[Session]:
        return self._by_user.get(user_id, set())

    def deliver(self, user_ids: Iterable[str], text: str, *, skip_session: str | None = None) -> int:
        """Queue one serialised frame for every live session of these users; one failing socket never
        stops the others. Returns how many sessions it was queued for."""
        count = 0
        for user_id in user_ids:
            for session in tuple(self._by_user.get(user_id, ())):
                if session.id == skip_session:
                    continue
                try:
                    session.send(text)
                    count += 1
                except Exception:
                    log.exception("delivery to session %s of %s failed", session.id, user_id)
        return count

    def close_revoked(self, user_id: str, version: int, code: int) -> int:
        """Close this user's sessions opened with a token older than ``version`` (logout, a new password, a
        disabled account); sessions opened with a newer token stay. Returns how many were closed."""
        revoked = [s for s in tuple(self._by_user.get(user_id, ())) if s.user.get("token_version", 0) < version]
        for session in revoked:
            session.close(code, "revoked")
        if revoked:
            log.info("closed %d session(s) of %s: tokens revoked", len(revoked), user_id)
        return len(revoked)

    def all(self) -> list[Session]:
        return [s for sessions in self._by_user.values() for s in sessions]

    def __len__(self) -> int:
        return sum(len(s) for s in self._by_user.values())
