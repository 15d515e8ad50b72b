"""Identifiers and times. Ids are strings of an ObjectId: unique, and in creation order when sorted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bson import ObjectId

# Times go out in China Standard Time, with their offset (PROTOCOL: ISO 8601 with offset).
CST = timezone(timedelta(hours=8), "CST")


#: What :func:`new_id` makes: an ObjectId's 24 lower-case hex digits.
ID_PATTERN = re.compile(r"[0-9a-f]{24}")


def new_id() -> str:
    return str(ObjectId())


def is_id(value: Any) -> bool:
    """Whether ``value`` is a string in the format :func:`new_id` makes (an object, a URL or text is not)."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset, in China Standard Time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CST).isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; one without an offset is taken as China Standard Time. Raises ValueError."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=CST)
