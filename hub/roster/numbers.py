"""Numbers that find a resident: an ID or phone number, whole and exactly (a fragment finds nobody: lists show
numbers masked, so a fragment that matched would unmask them a digit at a time)."""

from __future__ import annotations

import unicodedata

from hub.accounts import PHONE_RE
from hub.roster import idcard

NUMBER_FIELDS = ("id_number", "phone")
WHOLE_ID_RE = idcard.SHAPE_RE


def normalised(field: str, value: str) -> str:
    """The form numbers are stored in: ``idcard.normalise_id_number`` for ID numbers, NFKC and trimmed for phones."""
    return idcard.normalise_id_number(value) if field == "id_number" else unicodedata.normalize("NFKC", value).strip()


def number_in_keyword(keyword: str) -> tuple[str, str] | None:
    """``(field, number)`` when the keyword is a whole ID or phone number, else None."""
    text = normalised("id_number", keyword)
    if WHOLE_ID_RE.match(text):
        return "id_number", text
    if PHONE_RE.match(text):
        return "phone", text
    return None


def whole_numbers(args: dict[str, str]) -> dict[str, str]:
    """The numbers a list request looks a resident up by (field → number), from its filters and keyword."""
    found = {f: normalised(f, args[f]) for f in NUMBER_FIELDS if args.get(f)}
    if args.get("q") and (number := number_in_keyword(args["q"])):
        found.setdefault(*number)
    return found


def masked(criteria: dict[str, str]) -> dict[str, str | None]:
    return {f: idcard.mask_id_number(v) if f == "id_number" else idcard.mask_phone(v) for f, v in criteria.items()}
