"""Sensitive words (敏感词 / 不雅词): the word list in MongoDB, its management and bulk import, and the screening
engine each process uses, rebuilt off the event loop and swapped atomically whenever the list changes.

Every change bumps one version number and announces it, with what changed, through the broker; each process
applies the changes in version order and rebuilds (a poll catches a missed announcement).
"""

from __future__ import annotations

import asyncio
import builtins
import csv
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import InsertOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, InvalidInput, NotFound
from hub.ids import iso, new_id, now
from hub.pages import page
from hub.screening import ScreeningEngine, WordEntry, build_engine, normalise_word
from hub.spreadsheets import WorkbookLimits, read_workbook
from hub.store import Index, find_in
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

ACTIONS = ("block", "mask", "alert", "allow")
ACTION_MESSAGE = "处理方式只能是 block（拦截）、mask（打码）、alert（预警）或 allow（白名单）"
MAX_WORD_CHARS = 50
MAX_CATEGORY_CHARS = 30
MAX_IMPORT_ROWS = 200_000
IMPORT_CHUNK = 5000
VERSION_POLL_SECS = 5.0
GAP_WAIT_SECS = 0.2
MAX_DERIVED_CHANGES = 10_000  # changed words an engine may carry before a full build is due at once
MAX_ANNOUNCED_DELTA = 50_000  # words; 48k words announce in ~4 MB, under Redis' 8 MB pub/sub soft limit
SCAN_OVER = 2000  # an import of more rows reads all words instead of looking each one up
BUILD_FIELDS = {"word": 1, "action": 1, "category": 1, "enabled": 1, "pinyin": 1}
#: Import cells that set or clear a word's pinyin flag (the fourth column of a text import).
PINYIN_YES = frozenset({"1", "true", "yes", "y", "是", "pinyin"})
PINYIN_NO = frozenset({"0", "false", "no", "n", "否"})
VERSION_ID = "sensitive_words"
# Few indexes on purpose: each one costs a bulk import of the whole lexicon (~50k words) several seconds here.
INDEXES = [
    Index("sensitive_words", [("normal", 1)], "normal_unique", unique=True),
    Index("screening_nodes", [("at", 1)], "at_ttl", options={"expireAfterSeconds": 86400}),
]


def render_word(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "word": doc["word"], "action": doc["action"], "category": doc.get("category", ""),
            "enabled": doc.get("enabled", True), "pinyin": doc.get("pinyin", False),
            "created_at": iso(doc.get("created_at"))}


Fields = tuple[str, str, str, bool, bool]  # word, action, category, enabled, pinyin


def _fields(doc: dict[str, Any]) -> Fields:
    return doc["word"], doc["action"], doc.get("category", ""), doc.get("enabled", True), doc.get("pinyin", False)


def _announced_fields(fields: list[Any]) -> Fields:
    """Fields from an announcement; one from a process that predates the pinyin flag has four."""
    word, action, category, enabled, *rest = fields
    return word, action, category, enabled, bool(rest and rest[0])


def _pinyin_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("pinyin 必须是布尔值", field="pinyin")
    return value


@dataclass(frozen=True)
class ImportRow:
    line: int
    word: str
    normal: str
    action: str
    category: str
    pinyin: bool | None = None  # None: the row does not say (a new word gets False, a listed one keeps its flag)


Announce = Callable[[dict[str, Any]], Awaitable[None]]
Delta = dict[str, Any]  # {"upsert": {id: [word, action, category, enabled]}, "delete": [id, ...]}


def _entries(docs: dict[str, Fields]) -> list[WordEntry]:
    return [WordEntry(word, action, category, pinyin) for word, action, category, enabled, pinyin in docs.values()
            if enabled]


class SensitiveWords:
    """The word list, and the engine in use on this process (``engine``, replaced whole on each rebuild).

    Each process keeps the enabled words in memory: a change announces its version and its delta through the
    broker, so no process reads the whole list again (reading ~50k words back from the database alone took 2 s
    here). Deltas are applied in version order, each by deriving the next engine from the one in use
    (``ScreeningEngine.changed``: milliseconds, where a full build of 50k words takes 0.4 s alone and up to
    1.8 s beside a busy event loop); a full build folds the changes in once the list has been quiet for
    ``words_compact_secs``. A missing delta, or a change announced without one (a large import), makes the
    process read the whole list and build fully at once.
    """

    def __init__(self, db: AsyncDatabase, node_id: str, announce: Announce, compact_after_secs: float = 3.0) -> None:
        self._words = db.sensitive_words
        self._state = db.hub_state
        self._nodes = db.screening_nodes
        self._imports = db.word_imports
        self._node = node_id
        self._announce = announce
        self._compact_after_secs = compact_after_secs
        self.engine: ScreeningEngine = build_engine([], version="0")
        self.built_at: datetime | None = None
        self.build_ms = 0.0
        self._docs: dict[str, Fields] = {}
        self._applied = 0
        self._pending: dict[int, Delta | None] = {}
        self._rebuild: asyncio.Task | None = None
        self._compaction: asyncio.Task | None = None
        self._poller: asyncio.Task | None = None

    # -- the engine ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the first engine (before serving) and watch for changes."""
        # An import that crashed half-way left invisible rows behind: sweep them (an hour is far longer than
        # any import runs, so a live import on another process is never touched).
        stale = [d["_id"] async for d in self._imports.find({"status": "running",
                                                             "started_at": {"$lt": now() - timedelta(hours=1)}})]
        if stale:
            await self._words.delete_many({"import_id": {"$in": stale}})
            await self._imports.update_many({"_id": {"$in": stale}}, {"$set": {"status": "failed"}})
        await self.refresh()
        self._poller = asyncio.create_task(self._poll(), name="sensitive-words-poll")

    async def stop(self) -> None:
        await cancel_and_wait((self._poller, self._rebuild, self._compaction))

    async def current_version(self) -> int:
        state = await self._state.find_one({"_id": VERSION_ID})
        return state["version"] if state else 0

    def on_change(self, version: int, delta: Delta | None) -> None:
        """A change was announced (by any process, this one included): rebuild, coalescing what comes
        during a rebuild."""
        if version <= self._applied:
            return
        self._pending[version] = delta
        if self._rebuild is None or self._rebuild.done():
            self._rebuild = asyncio.create_task(self._rebuild_loop(), name="sensitive-words-rebuild")

    async def refresh(self) -> None:
        """Read the whole list and rebuild now (start-up, seeding, a missed announcement)."""
        await self._load_all()
        await self._build()

    async def _load_all(self) -> None:
        version = await self.current_version()  # first: the list read after it is at least this new
        self._docs = {d["_id"]: _fields(d)
                      async for d in self._words.find(await self._visible(), BUILD_FIELDS).batch_size(10_000)}
        self._applied = max(self._applied, version)
        self._pending = {v: d for v, d in self._pending.items() if v > self._applied}

    async def _rebuild_loop(self) -> None:
        while self._pending:
            try:
                await self._catch_up()
            except Exception:
                log.exception("rebuilding the screening engine failed; keeping version %s", self.engine.version)
                await asyncio.sleep(1)

    async def _catch_up(self) -> None:
        """Apply the pending changes in version order. A few words changed: derive the next engine from the one
        in use (milliseconds) and fold the changes into a full build once the list has been quiet for a while.
        A missing or unannounced delta: read the whole list and build fully now."""
        if self._applied + 1 not in self._pending:
            await asyncio.sleep(GAP_WAIT_SECS)  # an announcement may still be on its way
        full = self._applied + 1 not in self._pending
        if full:
            await self._load_all()
        removed: list[WordEntry] = []
        added: list[WordEntry] = []
        while self._applied + 1 in self._pending:
            delta = self._pending.pop(self._applied + 1)
            if delta is None:
                await self._load_all()
                full = True
                break
            self._apply(delta, removed, added)
            self._applied += 1
        if full or self.engine.changes + len(removed) + len(added) > MAX_DERIVED_CHANGES:
            await self._build()
            return
        started = time.perf_counter()
        engine = await asyncio.to_thread(self.engine.changed, removed, added, str(self._applied))
        await self._use(engine, started)
        if self._compaction is not None:
            self._compaction.cancel()
        self._compaction = asyncio.create_task(self._compact(), name="sensitive-words-compaction")

    def _apply(self, delta: Delta, removed: list[WordEntry], added: list[WordEntry]) -> None:
        """Apply one delta to the words in memory, noting the words that stop and start applying."""
        for word_id in delta.get("delete", ()):
            old = self._docs.pop(word_id, None)
            if old and old[3]:
                removed.append(WordEntry(old[0], old[1], old[2], old[4]))
        for word_id, fields in delta.get("upsert", {}).items():
            old = self._docs.get(word_id)
            if old and old[3]:
                removed.append(WordEntry(old[0], old[1], old[2], old[4]))
            word, action, category, enabled, pinyin = self._docs[word_id] = _announced_fields(fields)
            if enabled:
                added.append(WordEntry(word, action, category, pinyin))

    async def _compact(self) -> None:
        """After a quiet spell, replace the derived engine by a full build of the same version."""
        await asyncio.sleep(self._compact_after_secs)
        await self._build()

    async def _build(self) -> None:
        """Build from the words in memory in a thread: the build is mostly Python, so the event loop keeps
        running between the thread's time slices, and the new engine replaces the old in one assignment."""
        started = time.perf_counter()
        engine = await asyncio.to_thread(build_engine, _entries(self._docs), str(self._applied))
        await self._use(engine, started)

    async def _use(self, engine: ScreeningEngine, started: float) -> None:
        """Screen with ``engine`` from now on, unless a newer one came first (a slow build racing a change)."""
        if int(engine.version) < int(self.engine.version):
            return
        self.engine = engine
        self.built_at = now()
        self.build_ms = (time.perf_counter() - started) * 1000
        await self._nodes.update_one({"_id": self._node}, {"$set": {
            "version": int(engine.version), "words": engine.word_count, "changes": engine.changes,
            "build_ms": self.build_ms, "at": now()}}, upsert=True)
        log.info("screening engine version %s: %d words (%d changed since the last full build), ready in %.0f ms",
                 engine.version, engine.word_count, engine.changes, self.build_ms)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(VERSION_POLL_SECS)
            try:
                latest = await self.current_version()
                if latest > self._applied and not self._pending:
                    self.on_change(latest, None)
            except Exception:
                log.exception("polling the sensitive-word version failed")

    async def _changed(self, delta: Delta | None) -> int:
        """Bump the version and announce the change to every process (this one too)."""
        state = await self._state.find_one_and_update({"_id": VERSION_ID}, {"$inc": {"version": 1}},
                                                      upsert=True, return_document=ReturnDocument.AFTER)
        if state is None:  # the embedded server can miss the upserted document on a first, concurrent write
            state = await self._state.find_one({"_id": VERSION_ID})
        await self._announce({"kind": "words_changed", "version": state["version"], "delta": delta})  # type: ignore[index]  # as above
        return state["version"]  # type: ignore[index]  # upserted: the document is there

    async def status(self) -> dict[str, Any]:
        nodes = [{"node": d["_id"], "version": d["version"], "words": d.get("words"), "changes": d.get("changes", 0),
                  "at": iso(d["at"])}
                 async for d in self._nodes.find({})]
        return {"version": int(self.engine.version or 0), "latest": await self.current_version(),
                "words": self.engine.word_count, "changes": self.engine.changes, "built_at": iso(self.built_at),
                "build_ms": round(self.build_ms), "node": self._node, "nodes": nodes}

    # -- the word list -----------------------------------------------------------------------------------------

    def _validate(self, word: Any, action: Any, category: Any) -> tuple[str, str, str, str]:
        if not isinstance(word, str) or not word.strip() or len(word) > MAX_WORD_CHARS:
            raise InvalidInput(f"词语须为 1–{MAX_WORD_CHARS} 个字符", field="word")
        if action not in ACTIONS:
            raise InvalidInput(ACTION_MESSAGE, field="action")
        category = "" if category is None else category
        if not isinstance(category, str) or len(category) > MAX_CATEGORY_CHARS:
            raise InvalidInput(f"分类最多 {MAX_CATEGORY_CHARS} 个字符", field="category")
        normal = normalise_word(word.strip())
        if not normal:
            raise InvalidInput("该词规范化后为空（只含符号或空白）", field="word")
        return word.strip(), normal, action, category.strip()

    async def add(self, actor: dict[str, Any], word: Any, action: Any, category: Any,
                  pinyin: Any = False) -> tuple[dict, int]:
        """Add a word; ``pinyin``: also match its pinyin spelling (see ``hub.screening.pinyin_forms``)."""
        word, normal, action, category = self._validate(word, action, category)
        doc = {"_id": new_id(), "word": word, "normal": normal, "action": action, "category": category,
               "enabled": True, "pinyin": _pinyin_flag(pinyin), "created_at": now(), "created_by": actor["_id"]}
        existing = await self._words.find_one({"normal": normal})
        if existing:
            raise Conflict("该词已存在", id=existing["_id"], word=existing["word"])
        try:
            await self._words.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("该词已存在", word=word) from None
        return doc, await self._changed({"upsert": {doc["_id"]: _fields(doc)}})

    async def update(self, word_id: str, changes: dict[str, Any]) -> tuple[dict, int]:
        doc = await self.get(word_id)
        update: dict[str, Any] = {}
        if "enabled" in changes:
            if not isinstance(changes["enabled"], bool):
                raise InvalidInput("enabled 必须是布尔值", field="enabled")
            update["enabled"] = changes["enabled"]
        if "pinyin" in changes:
            update["pinyin"] = _pinyin_flag(changes["pinyin"])
        if "action" in changes or "category" in changes:
            _, _, action, category = self._validate(doc["word"], changes.get("action", doc["action"]),
                                                    changes.get("category", doc.get("category", "")))
            update.update(action=action, category=category)
        if not update:
            raise InvalidInput("没有可修改的字段（enabled、action、category、pinyin）")
        await self._words.update_one({"_id": word_id}, {"$set": update})
        doc = {**doc, **update}
        return doc, await self._changed({"upsert": {word_id: _fields(doc)}})

    async def delete(self, word_id: str) -> tuple[dict, int]:
        doc = await self.get(word_id)
        await self._words.delete_one({"_id": word_id})
        return doc, await self._changed({"delete": [word_id]})

    async def _visible(self) -> dict[str, Any]:
        """A filter hiding the rows of imports that have not finished (all or nothing)."""
        unfinished = [d["_id"] async for d in self._imports.find({"status": {"$ne": "done"}}, {"_id": 1})]
        return {"import_id": {"$nin": unfinished}} if unfinished else {}

    async def get(self, word_id: str) -> dict[str, Any]:
        doc = await self._words.find_one({"_id": word_id, **await self._visible()})
        if doc is None:
            raise NotFound("敏感词不存在", id=word_id)
        return doc

    async def list(self, *, q: str | None, category: str | None, action: str | None, limit: int,
                   cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        query: dict[str, Any] = await self._visible()
        if q:
            query["normal"] = {"$regex": re.escape(normalise_word(q) or q)}
        if category:
            query["category"] = category
        if action:
            query["action"] = action
        return await page(self._words, query, limit=limit, cursor=cursor)

    # -- bulk import -------------------------------------------------------------------------------------------

    def parse_text(self, content: bytes, default_action: str, default_category: str) -> builtins.list[ImportRow]:
        """One word a line, optionally ``word,category,action,pinyin`` (comma or tab; pinyin ``1``/``0``). Raises
        InvalidInput listing every bad row; nothing is applied unless every row is good."""
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("文件不是 UTF-8 编码的文本") from None
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = next(csv.reader([line], delimiter="\t" if "\t" in line else ","))
            rows.append((number, cells))
        return self._rows(rows, default_action, default_category)

    async def parse_xlsx(self, content: bytes, default_action: str, default_category: str) -> builtins.list[ImportRow]:
        """The first sheet: columns word, category, action; a first row naming them is skipped. Read in a
        bounded worker (``hub.spreadsheets``), never on the event loop."""
        limits = WorkbookLimits(max_rows=MAX_IMPORT_ROWS + 1, max_columns=3)
        rows = []
        for number, values in await read_workbook(content, limits):
            cells = ["" if v is None else str(v) for v in values]
            if number == 1 and cells[0].strip().lower() in ("word", "词", "敏感词"):
                continue
            if any(c.strip() for c in cells):
                rows.append((number, cells))
        # Checking 200k rows takes seconds: in a thread, so the loop goes on (the rows are already bounded).
        return await asyncio.to_thread(self._rows, rows, default_action, default_category)

    def _rows(self, rows: builtins.list[tuple[int, builtins.list[str]]], default_action: str,
              default_category: str) -> builtins.list[ImportRow]:
        if default_action not in ACTIONS:
            raise InvalidInput(ACTION_MESSAGE, field="action")
        if not rows:
            raise InvalidInput("文件中没有词")
        if len(rows) > MAX_IMPORT_ROWS:
            raise InvalidInput(f"一次最多导入 {MAX_IMPORT_ROWS} 行", rows=len(rows))
        good: dict[str, ImportRow] = {}
        errors = []
        for number, cells in rows:
            word = cells[0].strip() if cells else ""
            category = cells[1].strip() if len(cells) > 1 and cells[1].strip() else default_category
            action = cells[2].strip().lower() if len(cells) > 2 and cells[2].strip() else default_action
            flag = cells[3].strip().lower() if len(cells) > 3 else ""
            if flag and flag not in PINYIN_YES | PINYIN_NO:
                errors.append({"line": number, "code": "pinyin", "message": "拼音列只能是 1 或 0"})
                continue
            if word.startswith(("=", "+", "@")) and len(word) > 1 and not word[1:].isalnum():
                errors.append({"line": number, "code": "formula", "message": "不接受公式"})
                continue
            try:
                word, normal, action, category = self._validate(word, action, category)
            except InvalidInput as exc:
                errors.append({"line": number, "code": exc.details.get("field", "invalid"), "message": exc.message})
                continue
            pinyin = (flag in PINYIN_YES) if flag else None
            good.setdefault(normal, ImportRow(number, word, normal, action, category, pinyin))
        if errors:
            raise InvalidInput(f"{len(errors)} 行有错误，未导入任何词", errors=errors[:1000], error_count=len(errors))
        return list(good.values())

    async def _existing(self, normals: builtins.list[str]) -> builtins.list[dict[str, Any]]:
        """The stored words among these: looked up for a small import, read in one scan for a large one
        (48k lookups took ~8 s here, a scan of 48k words 1.5 s)."""
        projection = {"normal": 1, **BUILD_FIELDS}
        if len(normals) > SCAN_OVER:
            wanted: set[str] = set(normals)
            return [d async for d in self._words.find({}, projection) if d["normal"] in wanted]
        return await find_in(self._words, "normal", normals, projection)

    async def import_rows(self, actor: dict[str, Any], rows: builtins.list[ImportRow]) -> tuple[dict[str, int], int]:
        """Add new words and update existing ones; all or nothing: the new rows carry the import's id and
        stay invisible until every one is written, and are removed if any write fails."""
        import_id = new_id()
        await self._imports.insert_one({"_id": import_id, "status": "running", "started_at": now(),
                                        "by": actor["_id"], "rows": len(rows)})
        existing = {d["normal"]: d for d in await self._existing([r.normal for r in rows])}
        rows = [r if r.pinyin is not None else
                ImportRow(r.line, r.word, r.normal, r.action, r.category,
                          existing.get(r.normal, {}).get("pinyin", False))
                for r in rows]  # a row that does not say keeps a listed word's flag
        created = [r for r in rows if r.normal not in existing]
        changed = [r for r in rows if r.normal in existing
                   and (existing[r.normal]["action"], existing[r.normal].get("category"),
                        existing[r.normal].get("pinyin", False)) != (r.action, r.category, r.pinyin)]
        moment = now()
        docs = [{"_id": new_id(), "word": r.word, "normal": r.normal, "action": r.action, "category": r.category,
                 "enabled": True, "pinyin": r.pinyin, "created_at": moment, "created_by": actor["_id"],
                 "import_id": import_id}
                for r in created]
        try:
            for start in range(0, len(docs), IMPORT_CHUNK):
                await self._words.bulk_write([InsertOne(d) for d in docs[start:start + IMPORT_CHUNK]], ordered=False)
        except Exception:
            await self._words.delete_many({"import_id": import_id})
            await self._imports.update_one({"_id": import_id}, {"$set": {"status": "failed"}})
            raise
        await self._imports.update_one({"_id": import_id}, {"$set": {"status": "done", "finished_at": now()}})
        if changed:
            await self._words.bulk_write([UpdateOne({"normal": r.normal}, {"$set": {
                "action": r.action, "category": r.category, "pinyin": r.pinyin}}) for r in changed], ordered=False)
        summary = {"rows": len(rows), "created": len(created), "updated": len(changed),
                   "unchanged": len(rows) - len(created) - len(changed)}
        delta = None  # a large import: every process reads the whole list instead of a huge announcement
        if len(created) + len(changed) <= MAX_ANNOUNCED_DELTA:
            upserts = {d["_id"]: _fields(d) for d in docs}
            for r in changed:
                upserts[existing[r.normal]["_id"]] = (r.word, r.action, r.category,  # type: ignore[assignment]  # stored documents hold these types
                                                     existing[r.normal].get("enabled", True), r.pinyin)
            delta = {"upsert": upserts}
        return summary, await self._changed(delta)

