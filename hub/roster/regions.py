"""Regions (行政区划) down to the village, keyed by their 12-digit statistical division codes: 2 digits province,
2 city, 2 county, 3 town, 3 village. Loaded from a ``code,name`` file (one region a line)."""

from __future__ import annotations

import csv
import io
import itertools
import re
from typing import Any

from pymongo import UpdateOne

from hub.errors import InvalidInput, NotFound
from hub.policy import REGION_LEVEL_DIGITS, region_prefix
from hub.schema import has_bad_characters

CODE_RE = re.compile(r"^[0-9]{12}$")
# The province-level codes of GB/T 2260 (31 provinces, autonomous regions and municipalities; 台湾, 香港, 澳门):
# a code outside them names no place in China, whatever the rest of it says.
PROVINCE_CODES = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
                            "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
                            "65", "71", "81", "82"})
LEVEL_NAMES = ("province", "city", "county", "town", "village")
VILLAGE_LEVEL = 5


def level_of(code: str) -> int:
    """1 (province) … 5 (village)."""
    return REGION_LEVEL_DIGITS.index(len(region_prefix(code))) + 1


def parent_of(code: str) -> str | None:
    level = level_of(code)
    if level == 1:
        return None
    return code[:REGION_LEVEL_DIGITS[level - 2]].ljust(12, "0")


def check_code(code: object, field: str = "code") -> str:
    """A well-formed division code: 12 digits, a real province, and no level left empty above a filled one
    (``330522000201`` has no town). Whether the region is known is the caller's lookup (``get_region``)."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise InvalidInput("区划代码应为 12 位数字", field=field, reason="format")
    if not well_formed(code):
        raise InvalidInput("区划代码不存在", field=field, reason="unknown_code", code=code)
    return code


def well_formed(code: str) -> bool:
    if code[:2] not in PROVINCE_CODES:
        return False
    bounds = (0, *REGION_LEVEL_DIGITS)
    segments = [code[a:b] for a, b in itertools.pairwise(bounds)]
    filled = [set(segment) != {"0"} for segment in segments]
    return filled == sorted(filled, reverse=True)  # filled levels first, then only empty ones


def parse_region_file(text: str) -> list[tuple[str, str]]:
    """``code,name`` lines (a header line is skipped); every line checked, all errors reported at once."""
    rows: list[tuple[str, str]] = []
    errors: list[dict[str, Any]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        code, name = [*row, "", ""][:2]
        code, name = code.strip(), name.strip()
        if number == 1 and not code.isdigit():
            continue  # header
        if not CODE_RE.match(code) or not well_formed(code) or not name or len(name) > 50 or has_bad_characters(name):
            errors.append({"line": number, "value": ",".join(row)[:80]})
        else:
            rows.append((code, name))
    if errors:
        raise InvalidInput("区划文件有错误的行", errors=errors[:100], error_count=len(errors))
    if not rows:
        raise InvalidInput("区划文件为空", field="body")
    return rows


class Regions:
    """Regions (``regions`` collection): loaded from a file, looked up, listed by parent."""

    def __init__(self, db: Any) -> None:
        self.db = db

    async def load(self, rows: list[tuple[str, str]]) -> int:
        """Upsert regions; each one's parent must be in the file or already known. Returns how many were written."""
        given = dict(rows)
        parents = {parent for code in given if (parent := parent_of(code))}
        known = {d["_id"] async for d in self.db.regions.find({"_id": {"$in": sorted(parents)}}, {"_id": 1})}
        missing = sorted(p for p in parents if p not in given and p not in known)
        if missing:
            raise InvalidInput("上级区划不存在", missing=missing[:50])
        ops = [UpdateOne({"_id": code}, {"$set": {"name": name, "level": level_of(code), "parent": parent_of(code)}},
                         upsert=True) for code, name in sorted(given.items())]
        await self.db.regions.bulk_write(ops, ordered=False)
        return len(ops)

    async def get(self, code: str) -> dict[str, Any]:
        region = await self.db.regions.find_one({"_id": code})
        if region is None:
            raise NotFound("区划不存在", code=code)
        return region

    async def require_village(self, code: object, field: str = "village") -> dict[str, Any]:
        village = await self.db.regions.find_one({"_id": check_code(code, field)})
        if village is None or village["level"] != VILLAGE_LEVEL:
            raise InvalidInput("村（社区）不存在", field=field, reason="unknown_village")
        return village

    async def village_codes(self) -> set[str]:
        """Every known village (the import checks its rows against them at once)."""
        return {r["_id"] async for r in self.db.regions.find({"level": VILLAGE_LEVEL}, {"_id": 1})}

    async def children(self, parent: str | None) -> list[dict[str, Any]]:
        query = {"parent": parent} if parent else {"level": 1}
        return await self.db.regions.find(query).sort("_id", 1).to_list(1000)


def within(field: str, code: str) -> dict[str, Any]:
    """A filter on ``field`` for codes inside region ``code`` (checked)."""
    return {field: {"$regex": "^" + region_prefix(check_code(code, field))}}


def render_region(region: dict[str, Any]) -> dict[str, Any]:
    return {"code": region["_id"], "name": region["name"], "level": LEVEL_NAMES[region["level"] - 1],
            "parent": region.get("parent")}
