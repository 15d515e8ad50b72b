"""Small input checks shared by the signing services (each raises ``InvalidInput`` naming the field)."""

from __future__ import annotations

from typing import Any

from hub.accounts import PHONE_RE
from hub.errors import InvalidInput


def required_text(body: dict[str, Any], field: str, most: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} 必填", field=field)
    if len(value.strip()) > most:
        raise InvalidInput(f"{field} 最多 {most} 字", field=field)
    return value.strip()


def optional_text(body: dict[str, Any], field: str, most: int) -> str:
    value = body.get(field)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > most:
        raise InvalidInput(f"{field} 应为不超过 {most} 字的文本", field=field)
    return value.strip()


def optional_phone(body: dict[str, Any], field: str = "phone") -> str | None:
    value = body.get(field)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not PHONE_RE.match(value):
        raise InvalidInput("手机号格式不正确", field=field)
    return value


def text_list(body: dict[str, Any], field: str, *, allowed: tuple[str, ...] | None = None, most: int = 20
              ) -> list[str]:
    value = body.get(field, [])
    if not isinstance(value, list) or len(value) > most or not all(isinstance(v, str) and 0 < len(v) <= 30
                                                                   for v in value):
        raise InvalidInput(f"{field} 应为文本列表", field=field)
    if allowed is not None:
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise InvalidInput(f"{field} 含未知取值", field=field, unknown=unknown, allowed=list(allowed))
    return list(dict.fromkeys(value))


def reason_text(body: dict[str, Any], field: str = "reason", most: int = 200) -> str:
    return required_text(body, field, most)
