"""Finding a resident by an ID or phone number (号码查找).

Lists show numbers masked, so a search that matched a fragment of a number would unmask it a few digits at a time
(a masked phone came back in about 20 keyword searches). A number is therefore matched whole and exactly only —
the ``id_number`` and ``phone`` filters, or a whole number typed as the keyword ``q`` — and every such request is
a lookup: audited (``signing.resident_lookup``, the numbers masked) and limited per user to
``signing.lookup_max`` in any ``signing.lookup_window_secs`` (a sliding window kept in MongoDB, so it holds
across hub processes). Over the limit the answer is 429 ``rate_limited``; the refusal is audited too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub import RateLimited
from hub.ids import new_id, now
from hub.roster.numbers import masked

AUDITED_IDS_MAX = 20  # resident ids a lookup's audit entry names


async def admit(hub: Any, user: dict[str, Any], criteria: dict[str, str], *, address: str, target: str) -> None:
    """Count one lookup against the user's window, or refuse it (429) when the window is full."""
    if not criteria:
        return
    limit, window = hub.config["signing.lookup_max"], hub.config["signing.lookup_window_secs"]
    moment = now()
    since = moment - timedelta(seconds=window)
    lookups = hub.db.signing_lookups
    await lookups.delete_many({"user": user["_id"], "at": {"$lt": since}})
    mine = {"_id": new_id(), "user": user["_id"], "at": moment}
    await lookups.insert_one(mine)
    # Counted after inserting: two lookups at once both see each other, so the limit is never overshot.
    if await lookups.count_documents({"user": user["_id"], "at": {"$gte": since}}) > limit:
        await lookups.delete_one({"_id": mine["_id"]})
        await hub.audit.record(actor=user, action="signing.resident_lookup_refused", target=target, address=address,
                               details={"numbers": masked(criteria), "limit": limit, "window_secs": window})
        raise RateLimited("号码查询过于频繁，请稍后再试", limit=limit, window_secs=window)


async def record(hub: Any, user: dict[str, Any], criteria: dict[str, str], found: list[str], *, address: str,
                 target: str) -> None:
    """The audit entry of an admitted lookup: the numbers masked, and whom it found."""
    if criteria:
        await hub.audit.record(actor=user, action="signing.resident_lookup", target=target, address=address,
                               details={"numbers": masked(criteria), "found": len(found),
                                        "resident_ids": found[:AUDITED_IDS_MAX]})
