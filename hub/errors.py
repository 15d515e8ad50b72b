"""Domain errors: a code, an HTTP status and a readable message. Services raise these, never HTTP errors.

The base HTTP handler renders them as ``{"error": {"code", "message", "details"}}``; the WebSocket handler
sends them as ``error`` frames (and closes with the error's ``close_code`` when it has one).
"""

from __future__ import annotations

from typing import Any


class ConfigError(Exception):
    """A setting is missing or wrong; raised at start-up with a message meant for the operator."""


class HubError(Exception):
    """Base of all domain errors."""

    code = "internal"
    status = 500
    message = "服务器内部错误"
    close_code: int | None = None

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.message
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(HubError):
    code, status, message = "invalid_input", 400, "请求参数不正确"


class InvalidJSON(HubError):
    code, status, message = "invalid_json", 400, "请求体不是合法的 JSON"


class InvalidFrame(HubError):
    code, status, message = "invalid_frame", 400, "消息帧格式不正确"


class TooLarge(HubError):
    code, status, message = "too_large", 413, "内容过大"


class Unauthorized(HubError):
    code, status, message, close_code = "unauthorized", 401, "请先登录", 4001


class InvalidCredentials(HubError):
    code, status, message = "invalid_credentials", 401, "用户名或密码错误"


class TooManyAttempts(HubError):
    code, status, message = "too_many_attempts", 429, "登录失败次数过多，请稍后再试"


class Forbidden(HubError):
    code, status, message = "forbidden", 403, "没有权限"


class NotFound(HubError):
    code, status, message = "not_found", 404, "对象不存在"


class Conflict(HubError):
    code, status, message = "conflict", 409, "与现有数据冲突"


class RateLimited(HubError):
    code, status, message = "rate_limited", 429, "操作过于频繁"


class TooManySockets(HubError):
    code, status, message, close_code = "too_many_sockets", 429, "同时打开的连接过多，请关闭其他页面后重试", 4008


class ContentBlocked(HubError):
    code, status, message = "content_blocked", 422, "内容包含违禁词，未发送"


class ConversationClosed(HubError):
    code, status, message = "conversation_closed", 409, "咨询已结束"


class RecallExpired(HubError):
    code, status, message = "recall_expired", 409, "超过可撤回时间"


class Unavailable(HubError):
    code, status, message = "unavailable", 503, "服务暂不可用"
