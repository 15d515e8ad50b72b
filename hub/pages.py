"""List pagination: ``?limit=`` (default 20, max 200) and an opaque ``?cursor=`` (PROTOCOL: Lists).

``page`` orders by ``_id`` (time-ordered); ``page_by_key`` by a string field first, to keep groups together."""

from __future__ import annotations

import base64
import binascii
import json
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


def _after_key(field: str, value: str | None, last_id: str) -> dict[str, Any]:
    """Documents sorting after ``(value, last_id)`` by ``(field, _id)``. A missing or null ``field`` sorts before
    every string (MongoDB's order), so after a null value come the rest of the nulls and then all strings."""
    if value is None:
        return {"$or": [{field: None, "_id": {"$gt": last_id}}, {field: {"$type": "string"}}]}
    return {"$or": [{field: {"$gt": value}}, {field: value, "_id": {"$gt": last_id}}]}


def decode_key_cursor(cursor: str | None) -> tuple[str | None, str] | None:
    """A cursor of ``page_by_key``: the (string or null) key and the ``_id`` of the last document shown."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not (isinstance(parsed, list) and len(parsed) == 2 and (parsed[0] is None or isinstance(parsed[0], str))
            and isinstance(parsed[1], str) and parsed[1]):
        raise InvalidInput("cursor 无效", field="cursor")
    return parsed[0], parsed[1]


async def page_by_key(collection: AsyncCollection, query: dict[str, Any], field: str, *, limit: int,
                      cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of documents ordered by a string ``field`` and then ``_id``, and the cursor of the next: documents
    sharing a key stay together (the members of a household) and every document comes exactly once."""
    after = decode_key_cursor(cursor)
    if after is not None:
        query = {"$and": [query, _after_key(field, *after)]}
    docs = await collection.find(query).sort([(field, 1), ("_id", 1)]).limit(limit + 1).to_list()
    if len(docs) <= limit:
        return docs, None
    last = docs[limit - 1]
    return docs[:limit], encode_cursor(json.dumps([last.get(field), last["_id"]], ensure_ascii=False))
