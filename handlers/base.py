"""The base of every JSON handler: parse and validate input, authenticate, render domain errors."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import tornado.web

from hub.audit import RequestContext
from hub.errors import ContentBlocked, Forbidden, HubError, InvalidInput, InvalidJSON, NotFound, TooLarge, Unauthorized
from hub.ids import parse_time
from hub.pages import parse_limit
from hub.schema import Body, Field, check_any, check_depth, check_query, has_hits, screen_fields

if TYPE_CHECKING:
    from hub.app import Hub

log = logging.getLogger(__name__)

MAX_JSON_BODY_BYTES = 1024 * 1024


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


METHODS_WITH_BODY_CHECK = ("get", "post", "put", "patch", "delete")


def _after_body_check(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def run(self: BaseHandler, *args: Any, **kwargs: Any) -> Any:
        await self.check_body()
        result = func(self, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    run.checks_body = True  # type: ignore[attr-defined]
    return run


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
    """Handlers get the hub from their URL table (``initialize(hub=...)``) and stay thin.

    Bodies are streamed so that each handler's own limit applies before any of the body is read: a declared
    ``Content-Length`` over ``max_body_bytes`` is refused (413) from the headers, a chunked body is cut off at
    it, and the chunks are gathered into ``self.request.body`` as before."""

    hub: Hub
    current_user: dict[str, Any] | None
    #: Media types of a method's request body and of its reply, where they are not JSON (for the OpenAPI
    #: document), e.g. ``{"post": (XLSX,)}``.
    body_types: ClassVar[dict[str, tuple[str, ...]]] = {}
    reply_types: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: Largest request body accepted; upload endpoints set their own.
    max_body_bytes: ClassVar[int] = MAX_JSON_BODY_BYTES
    #: The JSON body and the query parameters of each method (``hub.schema``), checked before the method runs
    #: and published in the OpenAPI document, e.g. ``{"post": Body("resident", name=Text(30, required=True))}``.
    body_schema: ClassVar[dict[str, Body]] = {}
    query_schema: ClassVar[dict[str, dict[str, Field]]] = {}
    #: Whether the endpoint answers without a login; the others authenticate before their input is checked.
    public: ClassVar[bool] = False
    _checked_body: dict[str, Any] | None = None
    _body_error: HubError | None = None
    _refusal: asyncio.Future[None] | None = None

    @classmethod
    def body_limit(cls, hub: Hub) -> int:
        """This handler's body limit (a handler whose limit is a setting reads it from ``hub.config``)."""
        return cls.max_body_bytes

    def initialize(self, hub: Hub, **_: Any) -> None:
        self.hub = hub
        self.current_user = None
        self.request.body = bytearray()  # type: ignore[assignment]  # filled by data_received; json.loads, decode and slicing all take it

    def data_received(self, chunk: bytes) -> None:
        self.request.body += chunk

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")

    @property
    def address(self) -> str:
        return self.hub.proxies.client_address(self.request)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Each HTTP method of a handler runs after ``check_body``: bodies are streamed (``limit_body``), so the
        body is whole only once ``prepare`` has returned and Tornado has read it, just before the method."""
        super().__init_subclass__(**kwargs)
        for name in METHODS_WITH_BODY_CHECK:
            func = cls.__dict__.get(name)
            if func is not None and not getattr(func, "checks_body", False):
                setattr(cls, name, _after_body_check(func))

    async def prepare(self) -> None:
        self.limit_body()
        if self.hub.shutting_down and self.request.method not in ("GET", "HEAD", "OPTIONS"):
            self.set_header("Connection", "close")
        await self.check_input()

    @property
    def _method(self) -> str:
        """The request's method as the schemas name it (``post``)."""
        return (self.request.method or "").lower()

    async def check_input(self) -> None:
        """The edge check of the request line, after the login (a caller without one learns nothing of the input
        rules): the declared query parameters. The declared body follows in ``check_body``."""
        method = self._method
        if not self.public and (method in self.query_schema or method in self.body_schema):
            await self.authenticate()
        if params := self.query_schema.get(method):
            check_query(params, self.request.query_arguments)

    async def check_body(self) -> None:
        """The declared body, checked and its text screened, once the whole body has been read."""
        declared = self.body_schema.get(self._method)
        if declared is None:
            return
        try:
            checked = declared.check(self._parsed_json())
            if self.current_user is None and has_hits(self.hub, declared, checked):
                await self.authenticate()
            self._checked_body = await screen_fields(self.hub, declared, checked, self.current_user,
                                                     {"plugin": self.plugin_name, "path": self.request.path})
        except (InvalidInput, InvalidJSON, ContentBlocked) as exc:
            # raised when the handler asks for its body, after its role and scope checks: a caller who may
            # not act learns that (403), not what the input should be; an alert of the text is already raised
            self._body_error = exc

    @property
    def plugin_name(self) -> str:
        module = type(self).__module__
        return module.split(".")[1] if module.startswith("plugins.") else "hub"

    def limit_body(self) -> None:
        """Refuse a declared body over the limit before reading it; hold a chunked one to the limit."""
        limit = self.body_limit(self.hub)
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            # Tornado closes a connection whose body was left unread once this answer is written.
            raise TooLarge(f"请求体不能超过 {limit} 字节", limit_bytes=limit)
        self.request.connection.set_max_body_size(limit)  # type: ignore[union-attr]

    async def authenticate(self) -> dict[str, Any]:
        """The caller, from ``Authorization: Bearer``; Unauthorized when missing or invalid. Checked once per
        request (the edge check may have done it already)."""
        if self.current_user is not None:
            return self.current_user
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized()
        self.current_user = await self.hub.accounts.authenticate(token.strip())
        return self.current_user

    def json_body(self) -> dict[str, Any]:
        """The JSON body, checked against the method's declared ``body_schema`` (and screened) when it has
        one; otherwise parsed with the generic checks only."""
        if self._body_error is not None:
            raise self._body_error
        if self._checked_body is not None:
            return self._checked_body
        if self._method in self.body_schema:
            # a subclass's prepare() skipped check_input(): never hand over a declared body unscreened
            raise HubError("请求体未经检查")
        return self._parsed_json()

    def _parsed_json(self) -> dict[str, Any]:
        if len(self.request.body) > MAX_JSON_BODY_BYTES:
            raise TooLarge(limit_bytes=MAX_JSON_BODY_BYTES)
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: a body nested thousands deep exhausts the parser's stack
            raise InvalidJSON() from None
        if not isinstance(body, dict):
            raise InvalidJSON("请求体必须是 JSON 对象")
        check_depth(body)
        check_any(body)
        return body

    def limit(self) -> int:
        return parse_limit(self.get_query_argument("limit", None))

    def int_arg(self, name: str) -> int | None:
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return None
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(f"{name} 必须是整数", field=name) from None
        if value < 0:
            raise InvalidInput(f"{name} 不能为负数", field=name)
        return value

    def time_arg(self, name: str) -> datetime | None:
        raw = self.get_query_argument(name, None)
        if not raw:
            return None
        try:
            return parse_time(raw)
        except ValueError:
            raise InvalidInput(f"{name} 必须是 ISO 8601 时间", field=name) from None

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data, ensure_ascii=False, default=str))

    def reply_page(self, items: list[dict[str, Any]], next_cursor: str | None) -> None:
        self.reply({"items": items, "next_cursor": next_cursor})

    def context(self, user: dict[str, Any]) -> RequestContext:
        """The actor and client address a service method records in its audit entries."""
        return RequestContext(actor=user, address=self.address)

    async def audit(self, action: str, target: str, /, **details: Any) -> None:
        await self.hub.audit.record(actor=self.current_user, action=action, target=target, address=self.address,
                                    details=details)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error is JSON with a code; never a stack trace."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, HubError):
            error = exc
        elif isinstance(exc, tornado.web.HTTPError):
            code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(status_code, "bad_request")
            error = HubError(exc.log_message or self._reason)
            error.code = code
        else:
            error = HubError()
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": error.as_dict()}, ensure_ascii=False, default=str))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, Forbidden) and not self._finished:
            # A refused request is a security event, in the trail before the 403 goes out; Tornado lets a handler
            # finish later, and the task is kept on the handler until then.
            self._refusal = asyncio.ensure_future(self._refuse(e))
            return
        if isinstance(e, HubError):
            if e.status >= 500:
                log.error("%s %s failed: %s", self.request.method, self.request.path, e.code)
            self._send_error(e)
            return
        super()._handle_request_exception(e)

    def _send_error(self, error: HubError) -> None:
        if not self._finished:
            self.clear()
            self.set_status(error.status)
            self.write_error(error.status, exc_info=(type(error), error, error.__traceback__))

    async def _refuse(self, error: Forbidden) -> None:
        user = self.current_user
        try:
            await self.hub.audit.security_event(
                action="security.forbidden", subject=user["_id"] if user else self.address, actor=user,
                target=self.request.path, address=self.address,
                details={"method": self.request.method, "path": self.request.path, "reason": error.message})
        except Exception:
            log.exception("recording the refusal of %s %s failed", self.request.method, self.request.path)
        self._send_error(error)


def largest_body_limit(app: tornado.web.Application, hub: Hub) -> int:
    """The largest body any endpoint accepts: the HTTP server's own limit."""
    handlers = [rule.target for rule in app.wildcard_router.rules]
    return max([MAX_JSON_BODY_BYTES] + [h.body_limit(hub) for h in handlers
                                         if isinstance(h, type) and issubclass(h, BaseHandler)])


class NotFoundHandler(BaseHandler):
    """Unknown ``/api`` paths answer in JSON too."""

    async def prepare(self) -> None:
        self.limit_body()
        raise NotFound("接口不存在", path=self.request.path)
