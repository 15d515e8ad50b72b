"""List pagination: ``?limit=`` (default 20, max 200) and an opaque ``?cursor=`` (PROTOCOL: Lists)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from hub.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 200


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidInput("limit 必须是整数", field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit 必须在 1 到 {MAX_LIMIT} 之间", field="limit")
    return limit


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        value = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = ""
    if not value:
        raise InvalidInput("cursor 无效", field="cursor")
    return value


async def page(collection: AsyncCollection, query: dict[str, Any], *, limit: int, cursor: str | None,
               newest_first: bool = True) -> tuple[list[dict[str, Any]], str | None]:
    """One page of documents ordered by their (time-ordered, string) ``_id``, and the cursor of the next."""
    after = decode_cursor(cursor)
    if after is not None:
        query = {"$and": [query, {"_id": {"$lt" if newest_first else "$gt": after}}]}
    docs = await collection.find(query).sort("_id", -1 if newest_first else 1).limit(limit + 1).to_list()
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, (encode_cursor(docs[-1]["_id"]) if more else None)
