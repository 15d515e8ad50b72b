"""``GET /ws``: the real-time socket of PROTOCOL.md. Parses frames, checks them, calls the services and renders
their answers or errors; the delivery of live events goes through ``hub.sessions``."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

import tornado.ioloop
import tornado.web
import tornado.websocket

from hub.accounts import public_user
from hub.errors import HubError, InvalidFrame, RateLimited, TooManySockets, Unauthorized
from hub.ids import iso, now
from hub.origins import normalise_origin
from hub.ratelimit import FrameLimiter, Verdict
from hub.schema import nesting_exceeds
from hub.sessions import WS_4008_POLICY, Session

if TYPE_CHECKING:
    from hub.app import Hub

log = logging.getLogger(__name__)

WS_1011_INTERNAL = 1011
WS_4001_UNAUTHORIZED = 4001
MAX_FRAME_ID_CHARS = 64
#: No frame of PROTOCOL.md nests deeper than 3 (``sync`` → ``convs`` → a number); deeper ones are refused before
#: anything walks them.
MAX_FRAME_DEPTH = 8


class HubSocket(tornado.websocket.WebSocketHandler):
    def initialize(self, hub: Hub) -> None:
        self.hub = hub
        self.session: Session | None = None
        # Until the socket is authenticated it has a limiter of its own; then it shares its user's.
        self.limiter: FrameLimiter = hub.sessions.limits.new_limiter()
        self._auth_timer: object | None = None

    async def prepare(self) -> None:
        # Tornado accepts an upgrade whose Origin matches the Host header, scheme aside, or that the browser calls
        # same-origin, before it asks check_origin: every Origin is checked here first, the whole origin.
        origin = self.request.headers.get("Origin")
        if origin is not None and not self.check_origin(origin):
            raise tornado.web.HTTPError(403, "origin not allowed")

    def check_origin(self, origin: str) -> bool:
        """The hub's own origin or one listed in ``allowed_origins``, scheme, host and port alike; nothing else.

        The hub's own origin is ``public_url`` when set: behind a TLS-terminating proxy the hub itself sees
        ``http``, and a fixed origin also refuses a DNS-rebinding page whose Host header would match any
        request-derived origin. Without ``public_url`` it is the scheme and Host of this request."""
        wanted = normalise_origin(origin)
        if wanted is None:
            return False
        config = self.hub.config
        own = config.public_url or f"{self.request.protocol}://{self.request.host}"
        return wanted in {normalise_origin(o) for o in (own, *config.allowed_origins)}

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
        session = Session(secrets.token_hex(8), user, self, max_frames=config.ws_send_queue_frames,
                          max_bytes=config.ws_send_queue_bytes)
        if self._gone():  # closed while we waited: registering it now would leave a ghost taking a place
            return
        leases = self.hub.socket_leases
        if not await leases.claim(session.user_id, session.id):
            self._refuse(TooManySockets(limit=config.ws_max_sockets_per_user), session, "on all hub processes",
                         frame_id)
            return
        if self._gone():
            leases.release(session.user_id, session.id)
            return
        try:
            self.limiter = self.hub.sessions.add(session)
        except TooManySockets as exc:
            leases.release(session.user_id, session.id)
            self._refuse(exc, session, "on this process", frame_id)
            return
        self.session = session
        self._reply({"type": "welcome", "user": public_user(user), "session": self.session.id,
                     "server_time": iso(now()), "heartbeat_secs": config.ws_heartbeat_secs,
                     "recall_secs": config.recall_window_secs}, frame_id)

    async def on_message(self, message: str | bytes) -> None:
        frame_id = None
        try:
            verdict = self.limiter.admit()
            if verdict is Verdict.CLOSE:
                self.close(WS_4008_POLICY, "rate limit")
                return
            if verdict is Verdict.REFUSE:
                raise RateLimited()
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
        except RecursionError:  # the decoder's own limit, for nesting far beyond ours
            raise InvalidFrame("帧嵌套过深", max_depth=MAX_FRAME_DEPTH) from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise InvalidFrame("帧必须是带 type 的 JSON 对象")
        if nesting_exceeds(frame, MAX_FRAME_DEPTH):
            raise InvalidFrame("帧嵌套过深", max_depth=MAX_FRAME_DEPTH)
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

    def _gone(self) -> bool:
        return self.ws_connection is None or self.ws_connection.is_closing()

    def _refuse(self, exc: TooManySockets, session: Session, where: str, frame_id: str | None) -> None:
        log.info("socket of %s refused: already %d open %s", session.user_id, exc.details["limit"], where)
        self._send_error(exc, frame_id)
        self.close(WS_4008_POLICY, exc.code)

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
            self.hub.socket_leases.release(self.session.user_id, self.session.id)


ROUTES = [(r"/ws", HubSocket)]
