"""The service catalogue: the record types of a service act (a real provincial system's list, DOMAIN.md) and
each package's items with their yearly frequency (the roster's packages: ``hub.roster.packages``), and the
package cycle of a signed resident — what is due, done and left in the current year of their term."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

RECORD_TYPES = ("居民健康档案", "健康教育", "健康指导", "定期随访", "健康咨询", "预防接种", "中医健康指导", "孕期保健",
                "产后访视", "中医体质辨识", "中医药保健指导", "健康体检", "用药指导", "公共服务", "上门服务")
FOLLOWUP_TYPES = ("定期随访", "孕期保健", "产后访视", "健康体检")  # types that may carry a population's form


def render_item(item: dict[str, Any]) -> dict[str, Any]:
    return {"name": item["name"], "times_per_year": item.get("times_per_year", 0)}


def term_year(start: datetime, moment: datetime) -> tuple[datetime, datetime]:
    """The year of a term holding ``moment``: from the start's anniversary before it to the next."""
    years = moment.year - start.year
    begin = _anniversary(start, years)
    if begin > moment:
        years -= 1
        begin = _anniversary(start, years)
    return begin, _anniversary(start, years + 1)


def _anniversary(start: datetime, years: int) -> datetime:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February in a common year
        return start.replace(year=start.year + years, day=28)


def cycle(items: list[dict[str, Any]], done: dict[str, int], begin: datetime, end: datetime, moment: datetime
          ) -> list[dict[str, Any]]:
    """Each item: how often a year, done this year, left, and due by now (the share of the year gone, rounded
    up, less what is done)."""
    gone = max(0.0, min(1.0, (moment - begin) / (end - begin)))
    rows = []
    for item in items:
        times = item.get("times_per_year", 0)
        count = done.get(item["name"], 0)
        rows.append({"name": item["name"], "times_per_year": times, "done": count, "left": max(0, times - count),
                     "due_now": max(0, math.ceil(times * gone) - count)})
    return rows
