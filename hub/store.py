"""MongoDB access: the client, the database, index declarations and the write concern that makes acks durable."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from hub.errors import NotFound

log = logging.getLogger(__name__)

# Journaled majority writes: an acknowledged write survives a crash of the database process (guarantee 1).
DURABLE = WriteConcern(w="majority", j=True)
DUPLICATE_KEY = 11000
IN_CHUNK = 50  # values per $in query (see find_in)
MOVE_BATCH = 500  # documents copied per round when a collection is merged into another (move_collection)
NAMESPACE_NOT_FOUND = 26


@dataclass(frozen=True)
class Index:
    """One index of one collection, declared in code and ensured at start-up."""

    collection: str
    keys: list[tuple[str, int]]
    name: str
    unique: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def connect(uri: str) -> AsyncMongoClient:
    """A client with the options every deployment needs: tz-aware datetimes and durable writes."""
    return AsyncMongoClient(uri, tz_aware=True, w="majority", journal=True, serverSelectionTimeoutMS=5000,
                            connectTimeoutMS=5000)


def database(client: AsyncMongoClient, name: str) -> AsyncDatabase:
    return client.get_database(name, write_concern=DURABLE)


async def ensure_indexes(db: AsyncDatabase, indexes: Iterable[Index]) -> None:
    """Create each declared index; an existing index of the same name with other options is replaced."""
    for index in indexes:
        options = {"name": index.name, "unique": index.unique, **index.options}
        try:
            await db[index.collection].create_index(index.keys, **options)
        except OperationFailure as exc:
            if exc.code not in (85, 86):  # IndexOptionsConflict, IndexKeySpecsConflict
                raise
            log.warning("index %s.%s changed; rebuilding", index.collection, index.name)
            await db[index.collection].drop_index(index.name)
            await db[index.collection].create_index(index.keys, **options)


async def get_by_id(collection: AsyncCollection, doc_id: Any, message: str) -> dict[str, Any]:
    """The document with this ``_id``, or NotFound carrying ``message`` (what the client reads) and the id."""
    doc = await collection.find_one({"_id": doc_id})
    if doc is None:
        raise NotFound(message, id=doc_id)
    return doc


async def find_in(collection: AsyncCollection, field: str, values: list[Any], projection: dict[str, int]
                  ) -> list[dict[str, Any]]:
    """Documents whose field is one of the values, asked in chunks: SecantusDB matches ``$in`` in time
    proportional to hits x list length (1,000 of 1,000: ~1 s; the same in chunks of 50: ~0.1 s)."""
    found: list[dict[str, Any]] = []
    for first in range(0, len(values), IN_CHUNK):
        found += await collection.find({field: {"$in": values[first:first + IN_CHUNK]}}, projection).to_list()
    return found


async def insert_unordered(collection: AsyncCollection, docs: list[dict[str, Any]]) -> set[Any]:
    """Insert unordered; return the ids refused as duplicates (a concurrent writer got there first)."""
    if not docs:
        return set()
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        return {docs[e["index"]]["_id"] for e in errors}
    return set()


class CollectionClash(RuntimeError):
    """Two collections cannot be merged: documents of the old one clash with the new one's on a unique index."""


async def move_collection(db: AsyncDatabase, old: str, new: str, indexes: Iterable[Index] = (), *,
                          batch_size: int = MOVE_BATCH) -> str:
    """Give the collection ``old`` the name ``new``, once: returns "absent" (nothing named ``old``: already moved,
    or a new database), "renamed" or "merged". The new name usually exists already, empty, because the declared
    indexes are ensured before the start-up hooks run: an empty ``new`` is replaced by a rename (atomic). When
    ``new`` holds documents, or the server cannot rename, ``old`` is copied into it in batches — a document
    whose ``_id`` is there already is skipped, so a copy cut off by a kill is simply run again — and dropped
    after the last batch. A document that clashes with another of ``new`` on a unique index (two pending
    requests for one resident, one under each name) raises ``CollectionClash`` naming them: which one is right
    is for an administrator to decide, and ``old`` is left in place. After a move the ``indexes`` of ``new``
    are ensured again (a rename brings the old collection's own)."""
    if old not in await db.list_collection_names(filter={"name": old}):
        return "absent"
    if await db[new].find_one({}, {"_id": 1}) is None:
        try:
            await db[old].rename(new, dropTarget=True)
            log.info("collection %s renamed to %s", old, new)
            await ensure_indexes(db, [i for i in indexes if i.collection == new])
            return "renamed"
        except OperationFailure as exc:
            if exc.code == NAMESPACE_NOT_FOUND:  # another process moved it meanwhile
                return "absent"
            log.warning("collection %s could not be renamed to %s (%s); copying it", old, new, exc)
    copied = await _copy_missing(db[old], db[new], batch_size)
    await db[old].drop()
    await ensure_indexes(db, [i for i in indexes if i.collection == new])
    log.info("collection %s merged into %s (%d documents copied)", old, new, copied)
    return "merged"


async def _copy_missing(source: AsyncCollection, target: AsyncCollection, batch_size: int) -> int:
    copied, last = 0, None
    while True:
        query: dict[str, Any] = {} if last is None else {"_id": {"$gt": last}}
        batch = await source.find(query).sort("_id", 1).limit(batch_size).to_list()
        if not batch:
            return copied
        last = batch[-1]["_id"]
        there = {d["_id"] for d in await find_in(target, "_id", [d["_id"] for d in batch], {"_id": 1})}
        missing = [d for d in batch if d["_id"] not in there]
        clashing = await insert_unordered(target, missing)
        if clashing:
            log.error("cannot merge %s into %s: documents %s clash with %s on a unique index; resolve them by "
                      "hand (keep one of each pair), then start again", source.name, target.name,
                      sorted(map(str, clashing)), target.name)
            raise CollectionClash(f"{source.name} → {target.name}: documents {sorted(map(str, clashing))} clash "
                                  "on a unique index")
        copied += len(missing)


async def ping(client: AsyncMongoClient) -> bool:
    try:
        await client.admin.command("ping")
    except Exception:  # any failure means "not reachable" for /healthz
        return False
    return True
