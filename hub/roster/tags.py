"""Tags (标签) for residents: created, renamed and deleted by managers, applied to many residents at once.
Key populations and chronic diseases get their own tags (kind ``population``) when a resident is signed."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, Forbidden, InvalidInput
from hub.ids import new_id, now
from hub.store import get_by_id

KINDS = ("custom", "population")
MAX_APPLY = 1000


class Tags:
    """Resident tags (``signing_tags`` collection, named before the roster had its own owner) and their use on
    residents."""

    def __init__(self, db: Any) -> None:
        self.db = db

    async def create(self, name: str, kind: str = "custom") -> dict[str, Any]:
        doc = {"_id": new_id(), "name": name, "kind": kind, "created_at": now()}
        try:
            await self.db.signing_tags.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("标签已存在", field="name") from None
        return doc

    async def ensure(self, names: list[str]) -> list[str]:
        """Ids of the tags with these names, creating missing ones (safe against a concurrent creation)."""
        if not names:
            return []
        found = {t["name"]: t["_id"] async for t in self.db.signing_tags.find({"name": {"$in": names}})}
        for name in names:
            if name not in found:
                try:
                    found[name] = (await self.create(name, "population"))["_id"]
                except Conflict:
                    found[name] = (await self.db.signing_tags.find_one({"name": name}))["_id"]
        return [found[n] for n in names]

    async def get(self, tag_id: str) -> dict[str, Any]:
        return await get_by_id(self.db.signing_tags, tag_id, "标签不存在")

    async def all(self) -> list[dict[str, Any]]:
        return await self.db.signing_tags.find({}).sort("name", 1).to_list(500)

    async def names(self, docs: list[dict[str, Any]]) -> dict[str, str]:
        """Tag id → name for the tags these residents carry."""
        ids = sorted({t for d in docs for t in d.get("tags", [])})
        return {t["_id"]: t["name"] async for t in self.db.signing_tags.find({"_id": {"$in": ids}})} if ids else {}

    async def check_known(self, wanted: object) -> list[str]:
        """A resident's new tag list (ids, each known), in order, once each."""
        if not isinstance(wanted, list) or len(wanted) > 50 or not all(isinstance(t, str) for t in wanted):
            raise InvalidInput("tags 应为标签 id 列表", field="tags")
        known = {t["_id"] async for t in self.db.signing_tags.find({"_id": {"$in": wanted}}, {"_id": 1})}
        if unknown := sorted(set(wanted) - known):
            raise InvalidInput("标签不存在", field="tags", unknown=unknown)
        return list(dict.fromkeys(wanted))

    async def rename(self, tag: dict[str, Any], name: str) -> dict[str, Any]:
        try:
            await self.db.signing_tags.update_one({"_id": tag["_id"]}, {"$set": {"name": name}})
        except DuplicateKeyError:
            raise Conflict("标签已存在", field="name") from None
        return {**tag, "name": name}

    async def delete(self, tag: dict[str, Any]) -> int:
        """Delete the tag and take it off every resident; returns how many residents had it."""
        result = await self.db.residents.update_many({"tags": tag["_id"]}, {"$pull": {"tags": tag["_id"]}})
        await self.db.signing_tags.delete_one({"_id": tag["_id"]})
        return result.modified_count

    async def counts(self, scope: dict[str, Any]) -> dict[str, int]:
        """Tag id → how many residents matching ``scope`` carry it."""
        counts: dict[str, int] = {}
        async for row in await self.db.residents.aggregate([
                {"$match": scope}, {"$unwind": "$tags"}, {"$group": {"_id": "$tags", "n": {"$sum": 1}}}]):
            counts[row["_id"]] = row["n"]
        return counts

    async def apply(self, tag_id: str, scope: dict[str, Any], resident_ids: list[str], *, remove: bool) -> int:
        """Put the tag on (or take it off) these residents, all of which must match ``scope``; returns how many
        changed."""
        visible = {d["_id"] async for d in self.db.residents.find(
            {"$and": [scope, {"_id": {"$in": resident_ids}}]}, {"_id": 1})}
        if outside := [i for i in resident_ids if i not in visible]:
            raise Forbidden("部分居民不在您的管辖范围内", resident_ids=outside[:50])
        change = {"$pull": {"tags": tag_id}} if remove else {"$addToSet": {"tags": tag_id}}
        result = await self.db.residents.update_many({"_id": {"$in": resident_ids}}, change)
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
