"""Residents (居民) of the roster: checked ID number (birth date and sex derived from it), contact, village and
household, key populations, chronic diseases and tags. A resident account manages its family's records."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, InvalidInput
from hub.ids import CST, iso, new_id, now
from hub.pages import page, page_by_key
from hub.roster import idcard, numbers, scopes
from hub.roster.checks import optional_phone, optional_text, required_text, text_list
from hub.roster.regions import Regions, within
from hub.roster.tags import Tags
from hub.store import find_in, get_by_id, insert_unordered

log = logging.getLogger(__name__)

KEY_POPULATIONS = ("老年人", "孕产妇", "0-6岁儿童", "残疾人", "高血压", "糖尿病", "严重精神障碍", "结核病",
                   "脱贫人口", "计划生育特殊家庭")
ELDERLY_AGE_YEARS = 65
CHILD_AGE_YEARS = 6
RELATIONS = ("本人", "配偶", "子女", "父母", "祖父母", "孙子女", "兄弟姐妹", "其他")
STATUS_LABELS = {"signed": "已签约", "unsigned": "未签约", "to_renew": "待续签", "refused": "拒签",
                 "unable": "无法签约"}
KEYWORD_FIELDS = ("name", "address")
EDITABLE = ("name", "phone", "address", "village", "household", "key_populations", "chronic_diseases", "relation")


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def derived_populations(born: date, given: list[str], today: date | None = None) -> list[str]:
    """The key populations given, plus 老年人 / 0-6岁儿童 when the birth date says so."""
    age = age_on(born, today or date.today())
    extra = ["老年人"] if age >= ELDERLY_AGE_YEARS else ["0-6岁儿童"] if age <= CHILD_AGE_YEARS else []
    return list(dict.fromkeys([*given, *extra]))


def new_resident(fields: dict[str, Any], *, created_by: str | None, account_id: str | None = None
                 ) -> dict[str, Any]:
    """The one constructor of a resident document (checked ``fields``): the live path, the import and the demo."""
    moment = now()
    return {"_id": new_id(), "account_id": account_id, "relation": fields.get("relation"), "tags": [],
            "team_id": None, "institution_id": None, "doctor_id": None, "signing_id": None, "signing_end": None,
            "status": "unsigned", "unable": None, "created_by": created_by, "created_at": moment,
            "updated_at": moment, **fields}


def list_filter(user: dict[str, Any], args: dict[str, str]) -> dict[str, Any]:
    """Residents in the user's scope, narrowed by the list's filters; ``q`` is the keyword search over name and
    address (no ``$text`` on this database: unanchored regexes). A number is matched whole and exactly only
    (``id_number``, ``phone``, or a whole number as ``q``): lists show numbers masked, so a fragment that found
    someone would unmask them a digit at a time. The handler audits and rate-limits those lookups."""
    clauses: list[dict[str, Any]] = [scopes.resident_filter(user)]
    if args.get("region"):
        clauses.append(within("region", args["region"]))
    for field in ("village", "household", "team_id", "doctor_id"):
        if args.get(field):
            clauses.append({field: args[field]})
    for field, value in numbers.whole_numbers(args).items():  # exact match only: no fragment finds anyone
        clauses.append({field: value})
    for field in ("name", "address"):
        if args.get(field):
            clauses.append({field: {"$regex": re.escape(args[field].strip())}})
    if args.get("status"):
        if args["status"] not in STATUS_LABELS:
            raise InvalidInput(f"status 应为 {' / '.join(STATUS_LABELS)}", field="status")
        clauses.append({"status": args["status"]})
    if args.get("tag"):
        clauses.append({"tags": args["tag"]})
    if args.get("key_population"):
        clauses.append({"key_populations": args["key_population"]})
    if args.get("q") and not numbers.number_in_keyword(args["q"]):
        word = re.escape(args["q"].strip()[:50])
        clauses.append({"$or": [{f: {"$regex": word}} for f in KEYWORD_FIELDS]})
    clauses = [c for c in clauses if c]
    return {"$and": clauses} if len(clauses) > 1 else (clauses[0] if clauses else {})


def group_households(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rendered residents, in household order, as ``[{household, members}]`` (no household: ``""``)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for member in members:
        grouped.setdefault(member.get("household") or "", []).append(member)
    return [{"household": household, "members": found} for household, found in grouped.items()]


def age_of(doc: dict[str, Any], today: date | None = None) -> int | None:
    born = doc.get("birth_date")
    return age_on(date.fromisoformat(born), today or datetime.now(CST).date()) if born else None


def render_resident(doc: dict[str, Any], *, whole: bool = False, tags: dict[str, str] | None = None
                    ) -> dict[str, Any]:
    """A resident for a client: numbers masked unless ``whole`` (see the masking rule in ``scopes``). The birth
    date goes with the whole number only; masked, an age stands in for it (with the birth date beside it, the
    masked number could be rebuilt: see ``idcard.mask_id_number``)."""
    tags = tags or {}
    id_number = doc.get("id_number")
    return {
        "id": doc["_id"], "name": doc["name"],
        "id_number": id_number if whole else idcard.mask_id_number(id_number),
        "phone": doc.get("phone") if whole else idcard.mask_phone(doc.get("phone")),
        "sex": doc.get("sex"), "birth_date": doc.get("birth_date") if whole else None, "age": age_of(doc),
        "address": doc.get("address", ""),
        "village": doc.get("village"), "household": doc.get("household", ""), "relation": doc.get("relation"),
        "key_populations": doc.get("key_populations", []), "chronic_diseases": doc.get("chronic_diseases", []),
        "tags": [{"id": t, "name": tags.get(t, "")} for t in doc.get("tags", [])],
        "status": doc.get("status", "unsigned"), "status_label": STATUS_LABELS[doc.get("status", "unsigned")],
        "team_id": doc.get("team_id"), "doctor_id": doc.get("doctor_id"), "signing_id": doc.get("signing_id"),
        "signing_end": iso(doc.get("signing_end")), "managed": doc.get("account_id") is not None,
        "unable": doc.get("unable"),
    }


NORMALISED_MARK = "id_numbers_normalised"
Renumbered = Callable[[str, str], Awaitable[None]]


class Residents:
    """Residents (``residents`` collection). The signing state a plugin keeps on a resident (``status``,
    ``team_id``, ``signing_id``, ``unable``, …) is written through ``set_state`` and ``apply_states``, never
    by the plugin's own queries."""

    def __init__(self, db: Any, regions: Regions, tags: Tags) -> None:
        self.db = db
        self.regions = regions
        self.tags = tags

    # -- one record ----------------------------------------------------------------------------------------

    async def check_details(self, body: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """The resident fields of a request body, checked (all of them, or only those present when partial)."""
        fields: dict[str, Any] = {}
        if not partial or "name" in body:
            fields["name"] = required_text(body, "name", 30)
        if not partial or "id_number" in body:
            parsed = idcard.parse_id_number(body.get("id_number"))
            fields.update(id_number=parsed.number, birth_date=parsed.birth_date.isoformat(), sex=parsed.sex)
        if not partial or "phone" in body:
            fields["phone"] = optional_phone(body)
        if not partial or "address" in body:
            fields["address"] = optional_text(body, "address", 200)
        if not partial or "village" in body:
            village = await self.regions.require_village(body.get("village"))
            fields["village"] = fields["region"] = village["_id"]
        if not partial or "household" in body:
            fields["household"] = optional_text(body, "household", 40)
        if not partial or "key_populations" in body:
            fields["key_populations"] = text_list(body, "key_populations", allowed=KEY_POPULATIONS)
        if not partial or "chronic_diseases" in body:
            fields["chronic_diseases"] = text_list(body, "chronic_diseases")
        if "relation" in body:
            if body["relation"] not in RELATIONS:
                raise InvalidInput(f"relation 应为 {' / '.join(RELATIONS)}", field="relation")
            fields["relation"] = body["relation"]
        if "birth_date" in fields:
            fields["key_populations"] = derived_populations(date.fromisoformat(fields["birth_date"]),
                                                            fields.get("key_populations", []))
        return fields

    async def add(self, actor: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
        """A new record entered by staff, in a village of their service area (``new_resident``)."""
        fields = await self.check_details(details)
        scopes.require_in_service_area(actor, fields["village"])
        return await self.insert(new_resident(fields, created_by=actor["_id"]))

    async def insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            await self.db.residents.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("该身份证号的居民已存在", field="id_number", reason="duplicate_id_number") from None
        return doc

    async def get(self, resident_id: str) -> dict[str, Any]:
        return await get_by_id(self.db.residents, resident_id, "居民不存在")

    async def find(self, resident_id: str, projection: dict[str, int] | None = None) -> dict[str, Any] | None:
        return await self.db.residents.find_one({"_id": resident_id}, projection)

    async def find_by_id_number(self, number: str) -> dict[str, Any] | None:
        return await self.db.residents.find_one({"id_number": number})

    async def update(self, resident: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - set(EDITABLE))
        if unknown:
            raise InvalidInput("不能修改这些字段", fields=unknown)
        changes = await self.check_details(body, partial=True)
        if "key_populations" in changes and resident.get("birth_date"):
            changes["key_populations"] = derived_populations(date.fromisoformat(resident["birth_date"]),
                                                             changes["key_populations"])
        if not changes:
            raise InvalidInput("没有要修改的内容")
        changes["updated_at"] = now()
        await self.db.residents.update_one({"_id": resident["_id"]}, {"$set": changes})
        return {**resident, **changes}

    async def set_tags(self, resident: dict[str, Any], wanted: object) -> dict[str, Any]:
        """Replace a resident's tags (known tag ids)."""
        tags = await self.tags.check_known(wanted)
        await self.db.residents.update_one({"_id": resident["_id"]}, {"$set": {"tags": tags}})
        return {**resident, "tags": tags}

    async def add_tag_names(self, resident_id: str, names: list[str]) -> None:
        """Tag a resident with these tag names (created when missing): key populations, chronic diseases."""
        ids = await self.tags.ensure(names)
        if ids:
            await self.db.residents.update_one({"_id": resident_id}, {"$addToSet": {"tags": {"$each": ids}}})

    async def set_state(self, resident_id: str, state: dict[str, Any], *, only_if: dict[str, Any] | None = None
                        ) -> None:
        """The fields a plugin keeps on the record (its signing state), ``only_if`` the record still matches."""
        await self.db.residents.update_one({"_id": resident_id, **(only_if or {})},
                                           {"$set": {**state, "updated_at": now()}})

    # -- many records --------------------------------------------------------------------------------------

    async def page(self, user: dict[str, Any], args: dict[str, str], *, limit: int, cursor: str | None
                   ) -> tuple[list[dict[str, Any]], str | None]:
        return await page(self.db.residents, list_filter(user, args), limit=limit, cursor=cursor,
                          newest_first=False)

    async def status_counts(self, user: dict[str, Any], args: dict[str, str]) -> dict[str, int]:
        """How many residents of the filtered list are in each status class, whatever ``status`` the list asks
        for (the tab badges of a resident list): the five classes of ``STATUS_LABELS``, zeros included."""
        query = list_filter(user, {k: v for k, v in args.items() if k != "status"})
        counts = dict.fromkeys(STATUS_LABELS, 0)
        async for row in await self.db.residents.aggregate([{"$match": query},
                                                            {"$group": {"_id": "$status", "n": {"$sum": 1}}}]):
            counts[row["_id"] if row["_id"] in counts else "unsigned"] += row["n"]
        return counts

    async def export(self, user: dict[str, Any], args: dict[str, str], most: int) -> list[dict[str, Any]]:
        return await self.db.residents.find(list_filter(user, args)).sort("_id", 1).limit(most).to_list()

    async def household_members(self, user: dict[str, Any], village: str, *, limit: int, cursor: str | None
                                ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a village's residents in scope, household by household (``limit`` counts residents, so a
        large household may continue on the next page)."""
        return await page_by_key(self.db.residents, list_filter(user, {"village": village}), "household",
                                 limit=limit, cursor=cursor)

    async def visible_ids(self, user: dict[str, Any], ids: list[str]) -> list[str]:
        """Those of these residents the user may see."""
        return [d["_id"] async for d in self.db.residents.find(
            {"$and": [scopes.resident_filter(user), {"_id": {"$in": sorted(set(ids))}}]}, {"_id": 1})]

    async def by_id_numbers(self, numbers: list[str], projection: dict[str, int] | None = None
                            ) -> list[dict[str, Any]]:
        return await find_in(self.db.residents, "id_number", numbers, projection or {})

    async def insert_many(self, docs: list[dict[str, Any]]) -> set[str]:
        """New records (``new_resident``) inserted unordered; returns the ids refused as duplicates."""
        return await insert_unordered(self.db.residents, docs)

    async def apply_states(self, changes: list[tuple[str, dict[str, Any], list[str]]]) -> None:
        """Many ``(resident id, state, tag ids to add)`` in one bulk write (the import's batches)."""
        if changes:
            await self.db.residents.bulk_write([
                UpdateOne({"_id": resident_id}, {"$set": state, "$addToSet": {"tags": {"$each": tags}}})
                for resident_id, state, tags in changes], ordered=False)

    async def render(self, docs: list[dict[str, Any]], *, whole: bool = False) -> list[dict[str, Any]]:
        """Residents for a client, with their tag names (numbers masked unless ``whole``)."""
        names = await self.tags.names(docs)
        return [render_resident(d, whole=whole, tags=names) for d in docs]

    # -- the family an account manages ---------------------------------------------------------------------

    async def managed_by(self, account_id: str, most: int = 50) -> list[dict[str, Any]]:
        return await self.db.residents.find({"account_id": account_id}).sort("_id", 1).to_list(most)

    async def count_managed(self, account_id: str) -> int:
        return await self.db.residents.count_documents({"account_id": account_id})

    async def own_record_ids(self, account_id: str) -> list[str]:
        """The account's own record(s) (relation 本人)."""
        return [d["_id"] async for d in self.db.residents.find({"account_id": account_id, "relation": "本人"},
                                                                {"_id": 1})]

    async def check_family_member(self, account: dict[str, Any], body: dict[str, Any]
                                  ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A family member's checked details, and the roster record already holding this ID number and name
        with no account (None: there is none, a new record may be created). Only the record's team may attach
        such a record to the account: typing a name and a number proves nothing about who is typing."""
        fields = await self.check_details(body)
        fields["relation"] = fields.get("relation") or "其他"
        if fields["relation"] == "本人" and await self.own_record_ids(account["_id"]):
            raise Conflict("本人已在家庭成员中", field="relation")
        existing = await self.find_by_id_number(fields["id_number"])
        if existing is not None and (existing.get("account_id") is not None or existing["name"] != fields["name"]):
            raise Conflict("该身份证号的居民已被其他账号管理", field="id_number", reason="managed_elsewhere")
        return fields, existing

    async def add_family_member(self, account: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        """A new record managed by the account (``check_family_member`` found none in the roster)."""
        return await self.insert(new_resident(fields, created_by=account["_id"], account_id=account["_id"]))

    async def attach(self, account_id: str, resident_id: str, relation: str) -> dict[str, Any] | None:
        """Link a roster record nobody manages to an account; None if somebody manages it meanwhile."""
        return await self.db.residents.find_one_and_update(
            {"_id": resident_id, "account_id": None},
            {"$set": {"account_id": account_id, "relation": relation, "updated_at": now()}}, return_document=True)

    async def detach(self, resident: dict[str, Any], *, ever_signed: bool) -> str:
        """Unlink the record from its account; a record the account created and that was never signed is
        deleted. Returns "deleted" or "unlinked"."""
        if resident.get("created_by") == resident.get("account_id") and not ever_signed:
            await self.db.residents.delete_one({"_id": resident["_id"], "account_id": resident["account_id"]})
            return "deleted"
        await self.db.residents.update_one({"_id": resident["_id"]},
                                           {"$set": {"account_id": None, "relation": None, "updated_at": now()}})
        return "unlinked"

    # -- stored ID numbers ---------------------------------------------------------------------------------

    async def normalise_stored_id_numbers(self, renumbered: Renumbered | None = None) -> dict[str, int]:
        """Once per database: rewrite ID numbers stored before normalisation (full-width digits, a lower-case x)
        to their normalised spelling, so the unique index holds one spelling per person; ``renumbered(resident
        id, number)`` lets a plugin update its copies. A number whose normalised spelling another record already
        holds is left as it is and logged: the two records are one person, and which one to keep is a decision
        for the roster's administrator, not for start-up."""
        counts = {"normalised": 0, "duplicates": 0}
        if await self.db.roster_meta.find_one({"_id": NORMALISED_MARK}):
            return counts
        async for doc in self.db.residents.find({"id_number": {"$not": {"$regex": "^[0-9]{17}[0-9X]$"}}},
                                                {"id_number": 1}):
            number = doc.get("id_number")
            if not isinstance(number, str) or (fixed := idcard.normalise_id_number(number)) == number:
                continue
            try:
                await self.db.residents.update_one({"_id": doc["_id"]}, {"$set": {"id_number": fixed}})
                if renumbered is not None:
                    await renumbered(doc["_id"], fixed)
                counts["normalised"] += 1
            except DuplicateKeyError:
                counts["duplicates"] += 1
                log.warning("resident %s: ID number is a second spelling of another record's; left for review",
                            doc["_id"])
        await self.db.roster_meta.update_one({"_id": NORMALISED_MARK}, {"$set": {"at": now(), **counts}},
                                             upsert=True)
        return counts
