"""Service packages (服务包): basic and special, with their items and default term. The standard basic package
(``STANDARD_PACKAGE_ID``) always exists and is filled in when a signing names none."""

from __future__ import annotations

from typing import Any

from hub.errors import InvalidInput, NotFound
from hub.ids import new_id, now
from hub.roster.checks import optional_text, required_text

STANDARD_PACKAGE_ID = "standard-basic"
KINDS = ("basic", "special")
STANDARD_ITEMS = [
    {"name": "健康咨询", "times_per_year": 0}, {"name": "健康评估", "times_per_year": 1},
    {"name": "慢性病随访", "times_per_year": 4}, {"name": "健康教育", "times_per_year": 2},
    {"name": "预约转诊", "times_per_year": 0},
]


class Packages:
    """Service packages (``packages`` collection)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    async def ensure_standard(self, default_term_years: int) -> None:
        await self.db.packages.update_one(
            {"_id": STANDARD_PACKAGE_ID},
            {"$setOnInsert": {"name": "基础服务包", "kind": "basic", "items": STANDARD_ITEMS,
                              "term_years": default_term_years, "price_yuan": 0, "description": "国家基本公共卫生服务",
                              "enabled": True, "created_at": now()}}, upsert=True)

    async def create(self, body: dict[str, Any], max_term_years: int) -> dict[str, Any]:
        doc = new_package(body, max_term_years)
        await self.db.packages.insert_one(doc)
        return doc

    async def get(self, package_id: str | None) -> dict[str, Any]:
        """An enabled package; no id: the standard basic package."""
        doc = await self.db.packages.find_one({"_id": package_id or STANDARD_PACKAGE_ID})
        if doc is None or not doc.get("enabled", True):
            raise NotFound("服务包不存在", id=package_id)
        return doc

    async def enabled(self) -> list[dict[str, Any]]:
        return await self.db.packages.find({"enabled": {"$ne": False}}).sort("_id", 1).to_list(200)


def new_package(body: dict[str, Any], max_term_years: int) -> dict[str, Any]:
    """The one constructor of a package document (checked)."""
    kind = body.get("kind")
    if kind not in KINDS:
        raise InvalidInput("kind 应为 basic 或 special", field="kind")
    items = body.get("items")
    if not isinstance(items, list) or not items or len(items) > 50:
        raise InvalidInput("items 应为 1 到 50 个服务项目", field="items")
    checked = []
    for item in items:
        if not isinstance(item, dict):
            raise InvalidInput("服务项目应为 {name, times_per_year}", field="items")
        times = item.get("times_per_year", 0)
        if not isinstance(times, int) or isinstance(times, bool) or not 0 <= times <= 365:
            raise InvalidInput("times_per_year 应为 0 到 365 的整数", field="items")
        checked.append({"name": required_text(item, "name", 40), "times_per_year": times})
    term = check_term(body.get("term_years", 1), max_term_years)
    price = body.get("price_yuan", 0)
    if not isinstance(price, int | float) or isinstance(price, bool) or price < 0:
        raise InvalidInput("price_yuan 应为非负数", field="price_yuan")
    doc = {"_id": new_id(), "name": required_text(body, "name", 40), "kind": kind, "items": checked,
           "term_years": term, "price_yuan": price, "description": optional_text(body, "description", 300),
           "enabled": True, "created_at": now()}
    return doc


def check_term(term: object, max_term_years: int, field: str = "term_years") -> int:
    """The term rule: whole years, 1 to ``signing.max_term_years`` (3 by the white paper)."""
    if not isinstance(term, int) or isinstance(term, bool) or not 1 <= term <= max_term_years:
        raise InvalidInput(f"签约期限应为 1 到 {max_term_years} 年", field=field, reason="term")
    return term


def render_package(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "name": doc["name"], "kind": doc["kind"], "items": doc["items"],
            "term_years": doc["term_years"], "price_yuan": doc.get("price_yuan", 0),
            "description": doc.get("description", ""), "standard": doc["_id"] == STANDARD_PACKAGE_ID}
