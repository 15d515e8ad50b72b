"""Gap-free sequence numbers with grouped, durable writes (PROTOCOL guarantees 1–3).

Messages of a conversation and notices of a user's inbox share one need: every document takes the next number
of its key (1, 2, 3 … with no gap, the same for every reader), it is durable before anyone is told about it,
and a retry with the same dedupe key stores nothing new. ``SequencedLog`` does this with no lock and no counter
document, so it holds across processes:

- the number is claimed by inserting it: the document's ``_id`` is made of its key and its number
  (``seq_id``), so exactly one writer can have each number, and a writer that loses re-reads the head and
  tries the next one. Using ``_id`` rather than a second unique index spares the database one index update
  per document, and a range of ``_id`` is a range of numbers of one key;
- inserts are ordered, so the stored documents of a key always form a prefix of what was tried — a failed
  document never leaves a hole behind a later one;
- everything queued while one write is in flight goes into the next ``insert_many``: the write rate grows with
  load instead of being one round trip per document.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

log = logging.getLogger(__name__)

DUPLICATE_KEY = 11000
HEADS_CACHED = 100_000
SEQ_DIGITS = 12


def seq_id(key: Any, seq: int) -> str:
    """The ``_id`` of number ``seq`` of ``key``: zero-padded, so ``_id`` order is number order within a key."""
    return f"{key}:{seq:0{SEQ_DIGITS}d}"


def seq_range(key: Any, after: int = 0, before: int | None = None) -> dict[str, Any]:
    """A filter for the numbers of ``key`` strictly between ``after`` and ``before``."""
    upper = seq_id(key, before) if before is not None else f"{key};"  # ";" sorts right after ":"
    return {"_id": {"$gt": seq_id(key, after), "$lt": upper}}
AfterInsert = Callable[[list[dict[str, Any]]], Awaitable[None]]
FloorLoader = Callable[[Any], Awaitable[int]]


class SequencedLog:
    """Appends documents that each take the next ``seq_field`` number of their ``key_field``."""

    def __init__(self, collection: AsyncCollection, *, key_field: str, seq_field: str, dedupe_field: str,
                 batch_max: int, floor: FloorLoader, after_insert: AfterInsert | None = None) -> None:
        self._coll = collection
        self._key = key_field
        self._seq = seq_field
        self._dedupe = dedupe_field
        self._batch_max = batch_max
        self._floor = floor
        self._after_insert = after_insert
        self._pending: deque[tuple[dict[str, Any], asyncio.Future]] = deque()
        self._inflight: dict[tuple[Any, str], asyncio.Future] = {}
        self._heads: OrderedDict[Any, int] = OrderedDict()
        self._flusher: asyncio.Task | None = None
        self._followup: asyncio.Task | None = None

    async def append(self, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store ``doc`` with the next number of its key. Returns the stored document and whether it is new;
        a document whose dedupe key was stored before returns that earlier document, unchanged."""
        ident = (doc[self._key], doc[self._dedupe])
        if ident in self._inflight:  # the same retry twice in flight: one write, one answer
            return await asyncio.shield(self._inflight[ident])
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[ident] = future
        self._pending.append((doc, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_all(), name=f"seqlog-{self._coll.name}")
        try:
            return await asyncio.shield(future)
        finally:
            self._inflight.pop(ident, None)

    async def drain(self) -> None:
        """Wait until everything queued so far is written (graceful shutdown)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
        if self._followup is not None:
            await asyncio.shield(self._followup)

    def forget(self, key: Any) -> None:
        """Drop the cached head of a key (it is re-read before its next write)."""
        self._heads.pop(key, None)

    async def _flush_all(self) -> None:
        try:
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(self._batch_max, len(self._pending)))]
                try:
                    await self._write(batch)
                except Exception as exc:  # the database is gone: fail this batch, keep serving
                    log.exception("write of %d documents to %s failed", len(batch), self._coll.name)
                    for doc, future in batch:
                        self._heads.pop(doc[self._key], None)
                        if not future.done():
                            future.set_exception(exc)
        finally:
            self._flusher = None

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future]]) -> None:
        while batch:
            await self._load_heads({doc[self._key] for doc, _ in batch})
            for doc, _ in batch:
                head = self._heads[doc[self._key]] + 1
                self._heads[doc[self._key]] = head
                doc[self._seq] = head
                doc["_id"] = seq_id(doc[self._key], head)
            try:
                await self._coll.insert_many([doc for doc, _ in batch], ordered=True)
                failed = len(batch)
            except BulkWriteError as exc:
                failed = exc.details["writeErrors"][0]["index"]
                error = exc.details["writeErrors"][0]
            stored, rest = batch[:failed], batch[failed:]
            for doc, future in stored:
                future.set_result((doc, True))
            await self._schedule_followup([doc for doc, _ in stored])
            if not rest:
                return
            for doc, _ in rest:  # numbers handed out past the failure were not stored: re-read heads
                self._heads.pop(doc[self._key], None)
            batch = await self._resolve_failure(rest, error)

    async def _resolve_failure(self, rest: list[tuple[dict[str, Any], asyncio.Future]],
                               error: dict[str, Any]) -> list[tuple[dict[str, Any], asyncio.Future]]:
        """The first of ``rest`` failed. A seq clash (another writer took the number) is retried; a dedupe
        clash answers with the stored document; anything else fails that document alone."""
        doc, future = rest[0]
        pattern = error.get("keyPattern") or {}
        if error.get("code") == DUPLICATE_KEY and self._dedupe in pattern:
            earlier = await self._coll.find_one({self._key: doc[self._key], self._dedupe: doc[self._dedupe]})
            if earlier is not None:
                future.set_result((earlier, False))
                return rest[1:]
        if error.get("code") == DUPLICATE_KEY and "_id" in pattern:
            return rest
        future.set_exception(RuntimeError(f"write failed: {error.get('errmsg')}"))
        return rest[1:]

    async def _load_heads(self, keys: set[Any]) -> None:
        """Find each uncached key's last number: from the owner's floor (a head kept up to date after each
        write), then a range read past it, which uses the (key, seq) index."""
        for key in keys - self._heads.keys():
            floor = await self._floor(key)
            cursor = self._coll.find(seq_range(key, floor), {self._seq: 1, "_id": 0})
            head = max([d[self._seq] async for d in cursor], default=floor)
            self._heads[key] = head
        for key in keys:
            self._heads.move_to_end(key)
        while len(self._heads) > HEADS_CACHED:
            self._heads.popitem(last=False)

    async def _schedule_followup(self, docs: list[dict[str, Any]]) -> None:
        """Run the owner's after-insert step (head and summary updates) for one batch while the next batch
        is written; at most one runs at a time."""
        if not docs or self._after_insert is None:
            return
        if self._followup is not None:
            await asyncio.shield(self._followup)
        self._followup = asyncio.create_task(self._run_followup(docs))

    async def _run_followup(self, docs: list[dict[str, Any]]) -> None:
        try:
            await self._after_insert(docs)  # type: ignore[misc]  # set: _schedule_followup checked
        except Exception:
            log.exception("after-insert step for %d documents of %s failed", len(docs), self._coll.name)
