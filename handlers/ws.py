"""``GET /ws``: the real-time socket of PROTOCOL.md. Parses frames, checks them, calls the services and renders
their answers or errors; the delivery of live events goes through ``hub.sessions``."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import tornado.ioloop
import tornado.websocket

from hub.accounts import public_user
from hub.errors import HubError, InvalidFrame, RateLimited, Unauthorized
from hub.ids import iso, now
from hub.ratelimit import TokenBucket
from hub.sessions import WS_4008_POLICY, Session

if TYPE_CHECKING:
    from hub.app import Hub

log = logging.getLogger(__name__)

WS_1011_INTERNAL = 1011
WS_4001_UNAUTHORIZED = 4001
MAX_FRAME_ID_CHARS = 64


class HubSocket(tornado.websocket.WebSocketHandler):
    def initialize(self, hub: Hub) -> None:
        self.hub = hub
        self.session: Session | None = None
        self.bucket = TokenBucket(hub.config.ws_rate_per_sec, hub.config.ws_rate_burst)
        self.strikes = 0
        self._auth_timer: object | None = None

    def check_origin(self, origin: str) -> bool:
        """Same host as the hub, or an origin listed in ``allowed_origins``; never anything else."""
        if origin in self.hub.config.allowed_origins:
            return True
        return urlparse(origin).netloc.lower() == self.request.host.lower()

    async def open(self) -> None:
        if self.hub.shutting_down:
            self.close(1001, "server shutting down")
            return
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            await self._authenticate(token.strip(), None)
        else:
            self._auth_timer = tornado.ioloop.IOLoop.current().call_later(
                self.hub.config.ws_auth_timeout_secs, self._auth_timeout)

    def _auth_timeout(self) -> None:
        if self.session is None:
            self.close(WS_4001_UNAUTHORIZED, "auth timeout")

    async def _authenticate(self, token: Any, frame_id: str | None) -> None:
        try:
            user = await self.hub.accounts.authenticate(token)
        except Unauthorized as exc:
            self._send_error(exc, frame_id)
            self.close(WS_4001_UNAUTHORIZED, exc.details.get("reason", "unauthorized"))
            return
        if self._auth_timer is not None:
            tornado.ioloop.IOLoop.current().remove_timeout(self._auth_timer)
        config = self.hub.config
        self.session = Session(secrets.token_hex(8), user, self, max_frames=config.ws_send_queue_frames,
                               max_bytes=config.ws_send_queue_bytes)
        self.hub.sessions.add(self.session)
        self._reply({"type": "welcome", "user": public_user(user), "session": self.session.id,
                     "server_time": iso(now()), "heartbeat_secs": config.ws_heartbeat_secs}, frame_id)

    async def on_message(self, message: str | bytes) -> None:
        frame_id = None
        try:
            if not self.bucket.take():
                # Refusals in a row, not in a lifetime: a client that slows down is forgiven.
                self.strikes += 1
                if self.strikes > self.hub.config.ws_rate_strikes:
                    self.close(WS_4008_POLICY, "rate limit")
                    return
                raise RateLimited()
            self.strikes = 0
            frame = self._parse(message)
            frame_id = frame.get("id")
            await self._dispatch(frame, frame_id)
        except HubError as exc:
            self._send_error(exc, frame_id)
            if exc.close_code:
                self.close(exc.close_code, exc.code)
        except Exception:
            log.exception("frame from %s failed", self.session.user_id if self.session else "anonymous")
            self._send_error(HubError(), frame_id)

    def _parse(self, message: str | bytes) -> dict[str, Any]:
        if isinstance(message, bytes):
            raise InvalidFrame("只接受文本帧")
        try:
            frame = json.loads(message)
        except ValueError:
            raise InvalidFrame("不是合法的 JSON") from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise InvalidFrame("帧必须是带 type 的 JSON 对象")
        frame_id = frame.get("id")
        if frame_id is not None and (not isinstance(frame_id, str) or len(frame_id) > MAX_FRAME_ID_CHARS):
            frame.pop("id")
            raise InvalidFrame(f"id 必须是不超过 {MAX_FRAME_ID_CHARS} 个字符的字符串")
        return frame

    async def _dispatch(self, frame: dict[str, Any], frame_id: str | None) -> None:
        kind = frame["type"]
        if self.session is None:
            if kind != "auth":
                raise Unauthorized("请先发送 auth 帧")
            await self._authenticate(frame.get("token"), frame_id)
            return
        user = self.session.user
        messaging = self.hub.messaging
        if kind == "send":
            self._reply(await messaging.send(user, frame), None)
        elif kind == "sync":
            frames, truncated = await messaging.sync(user, frame.get("convs", {}))
            frames += await self.hub.notices.since(user["_id"], frame.get("inbox", 0))
            for item in frames:
                self._reply(item, None)
            self._reply({"type": "synced", "truncated": truncated}, frame_id)
        elif kind == "read":
            await messaging.mark_read(user, frame.get("conv"), frame.get("seq"))
        elif kind == "typing":
            await messaging.typing(user, frame.get("conv"))
        elif kind == "recall":
            await messaging.recall(user, frame.get("conv"), frame.get("seq"))
            await self.hub.audit.record(actor=user, action="message.recall", target=f"{frame['conv']}:{frame['seq']}",
                                        address=self.hub.proxies.client_address(self.request))
        elif kind == "ping":
            self._reply({"type": "pong"}, frame_id)
        elif kind == "auth":
            raise InvalidFrame("已经登录")
        else:
            raise InvalidFrame(f"未知的帧类型 {kind}", type=kind)

    def _reply(self, frame: dict[str, Any], frame_id: str | None) -> None:
        if frame_id is not None:
            frame["id"] = frame_id
        text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
        if self.session is not None:
            self.session.send(text)  # behind anything already queued, in order
        else:
            self.write_message(text)

    def _send_error(self, exc: HubError, frame_id: str | None) -> None:
        frame: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
        if exc.details:
            frame["details"] = exc.details
        with contextlib.suppress(tornado.websocket.WebSocketClosedError):
            self._reply(frame, frame_id)

    def on_close(self) -> None:
        if self._auth_timer is not None:
            tornado.ioloop.IOLoop.current().remove_timeout(self._auth_timer)
        if self.session is not None:
            self.session.closed = True
            self.hub.sessions.remove(self.session)


ROUTES = [(r"/ws", HubSocket)]
