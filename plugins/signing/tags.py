"""Tags (标签) for residents: created, renamed and deleted by managers, applied to many residents at once.
Key populations and chronic diseases get their own tags (kind ``population``) when a resident is signed."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from hub import Conflict, InvalidInput, get_by_id
from hub.ids import new_id, now

KINDS = ("custom", "population")
MAX_APPLY = 1000


async def create_tag(db: Any, name: str, kind: str = "custom") -> dict[str, Any]:
    doc = {"_id": new_id(), "name": name, "kind": kind, "created_at": now()}
    try:
        await db.signing_tags.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict("标签已存在", field="name") from None
    return doc


async def ensure_tags(db: Any, names: list[str]) -> list[str]:
    """Ids of the tags with these names, creating missing ones (safe against a concurrent creation)."""
    if not names:
        return []
    found = {t["name"]: t["_id"] async for t in db.signing_tags.find({"name": {"$in": names}})}
    for name in names:
        if name not in found:
            try:
                found[name] = (await create_tag(db, name, "population"))["_id"]
            except Conflict:
                found[name] = (await db.signing_tags.find_one({"name": name}))["_id"]
    return [found[n] for n in names]


async def get_tag(db: Any, tag_id: str) -> dict[str, Any]:
    return await get_by_id(db.signing_tags, tag_id, "标签不存在")


async def rename_tag(db: Any, tag: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        await db.signing_tags.update_one({"_id": tag["_id"]}, {"$set": {"name": name}})
    except DuplicateKeyError:
        raise Conflict("标签已存在", field="name") from None
    return {**tag, "name": name}


async def delete_tag(db: Any, tag: dict[str, Any]) -> int:
    """Delete the tag and take it off every resident; returns how many residents had it."""
    result = await db.residents.update_many({"tags": tag["_id"]}, {"$pull": {"tags": tag["_id"]}})
    await db.signing_tags.delete_one({"_id": tag["_id"]})
    return result.modified_count


def check_ids(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > MAX_APPLY or not all(isinstance(v, str)
                                                                                     for v in value):
        raise InvalidInput(f"{field} 应为 1 到 {MAX_APPLY} 个 id", field=field)
    return list(dict.fromkeys(value))


def render_tag(doc: dict[str, Any], count: int | None = None) -> dict[str, Any]:
    out = {"id": doc["_id"], "name": doc["name"], "kind": doc["kind"]}
    if count is not None:
        out["residents"] = count
    return out
