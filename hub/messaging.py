"""Messages of conversations: send, sync, read marks, typing and recall (PROTOCOL: WebSocket, guarantees 1–4).

Services here return frames as dicts and publish live events through ``publish``; they never touch a socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from hub.accounts import public_user
from hub.consultations import Consultations
from hub.errors import ContentBlocked, Forbidden, InvalidInput, NotFound, RecallExpired
from hub.ids import iso, now
from hub.media import MediaStore
from hub.screening import ScreenResult
from hub.sequencing import SequencedLog, seq_id, seq_range
from hub.store import Index

log = logging.getLogger(__name__)

INDEXES = [
    Index("messages", [("conv", 1), ("dedupe", 1)], "conv_dedupe_unique", unique=True),
]
MESSAGE_KINDS = ("text", "image")
MAX_TEXT_CHARS = 5000
MAX_CLIENT_ID_CHARS = 64
# Measured (bench/hub.py): summary writes took half the database's time at 0.25 s; at 1 s, in pieces of 40,
# message inserts keep the database.
SUMMARY_FLUSH_SECS = 1.0
SUMMARY_WRITE_PIECE = 10
SUMMARY_PIECE_GAP_MAX_SECS = 0.05

Publish = Callable[[list[str], dict[str, Any]], Awaitable[None]]
Check = Callable[[str], ScreenResult]
RaiseAlert = Callable[[ScreenResult, str, dict[str, Any], dict[str, Any]], Awaitable[Any]]


def render_message(doc: dict[str, Any]) -> dict[str, Any]:
    frame = {"type": "message", "conv": doc["conv"], "seq": doc["seq"], "from": doc["from"],
             "kind": doc["kind"], "ts": iso(doc["ts"])}
    if doc.get("recalled"):
        frame["recalled"] = True
    elif doc["kind"] == "image":
        frame["media"] = doc["media"]
    else:
        frame["text"] = doc["text"]
    return frame


def summary_of(doc: dict[str, Any]) -> dict[str, Any]:
    """A conversation's ``last_message``. Field order matters: ``$max`` compares documents field by field, so
    a newer seq always wins, and for the same seq a recalled copy wins over the original."""
    return {"seq": doc["seq"], "recalled": bool(doc.get("recalled")), "from": doc["from"], "kind": doc["kind"],
            "text": "" if doc.get("recalled") else doc.get("text", ""), "ts": doc["ts"]}


def render_ack(doc: dict[str, Any], client_id: str) -> dict[str, Any]:
    return {"type": "ack", "id": client_id, "conv": doc["conv"], "seq": doc["seq"], "ts": iso(doc["ts"]),
            "screen": {"action": doc["screen"]["action"]}}


class Messaging:
    """The message path: screen, store durably with the next seq, then deliver."""

    def __init__(self, db: AsyncDatabase, consultations: Consultations, media: MediaStore, *, publish: Publish,
                 check: Check, raise_alert: RaiseAlert, batch_max: int, recall_window_secs: int,
                 sync_max_messages: int) -> None:
        self._messages = db.messages
        self._convs = db.conversations
        self._consultations = consultations
        self._media = media
        self._publish = publish
        self._check = check
        self._raise_alert = raise_alert
        self._recall_window = timedelta(seconds=recall_window_secs)
        self._sync_max = sync_max_messages
        self._summaries: dict[str, dict[str, Any]] = {}  # conv → {"seq", "doc", "readers": {user: seq}}
        self._summary_writer: asyncio.Task | None = None
        self.log = SequencedLog(self._messages, key_field="conv", seq_field="seq", dedupe_field="dedupe",
                                batch_max=batch_max, floor=self._conversation_head,
                                after_insert=self._update_conversations)

    async def _conversation_head(self, conv_id: str) -> int:
        conv = await self._convs.find_one({"_id": conv_id}, {"last_seq": 1})
        return conv.get("last_seq", 0) if conv else 0

    async def _update_conversations(self, docs: list[dict[str, Any]]) -> None:
        """Note each conversation's newest message and each sender's read mark; they are written together at
        most every ``SUMMARY_FLUSH_SECS``, so a busy conversation costs one update a period, not one a message."""
        for doc in docs:
            noted = self._summaries.setdefault(doc["conv"], {"seq": 0, "readers": {}})
            if doc["seq"] > noted["seq"]:
                noted.update(seq=doc["seq"], doc=doc)
            readers = noted["readers"]
            readers[doc["from"]["id"]] = max(readers.get(doc["from"]["id"], 0), doc["seq"])
        if self._summary_writer is None:
            self._summary_writer = asyncio.create_task(self._write_summaries_while_noted())

    async def _write_summaries_while_noted(self) -> None:
        """Keeps going while anything is noted: a note made during a write is written by the next round."""
        try:
            while self._summaries:
                await asyncio.sleep(SUMMARY_FLUSH_SECS)
                await self.flush_summaries(spread_secs=SUMMARY_FLUSH_SECS)
        finally:
            self._summary_writer = None

    async def flush_summaries(self, spread_secs: float = 0.0) -> None:
        """Write the noted summaries: one ``$max`` update per conversation (the newest seq always wins, so
        writes from several processes may land in any order), in small pieces spread over ``spread_secs``, so
        that message inserts are never held up behind a burst of them (a burst of 200 updates every second held
        the p99 ack at half load near 100 ms; spread, ~50 ms). The head they keep is only a floor for
        ``SequencedLog``."""
        noted, self._summaries = self._summaries, {}
        ops = []
        for conv_id, note in noted.items():
            doc = note["doc"]
            summary = summary_of(doc)
            marks = {f"read.{user_id}": seq for user_id, seq in note["readers"].items()}
            ops.append(UpdateOne({"_id": conv_id}, {"$max": {"last_seq": doc["seq"], "last_message": summary,
                                                             **marks}}))
        pieces = range(0, len(ops), SUMMARY_WRITE_PIECE)
        gap = min(SUMMARY_PIECE_GAP_MAX_SECS, spread_secs / len(pieces)) if pieces else 0.0
        for start in pieces:
            if start and gap:
                await asyncio.sleep(gap)
            try:
                await self._convs.bulk_write(ops[start:start + SUMMARY_WRITE_PIECE], ordered=False)
            except Exception:
                log.exception("updating %d conversation summaries failed", len(ops[start:start + SUMMARY_WRITE_PIECE]))

    async def send(self, user: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
        """Store a message and deliver it; returns the ack frame. A retry with the same id returns the first
        ack and stores nothing new."""
        client_id = frame.get("id")
        if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID_CHARS:
            raise InvalidInput(f"send 需要 1–{MAX_CLIENT_ID_CHARS} 个字符的 id", field="id")
        kind = frame.get("kind", "text")
        if kind not in MESSAGE_KINDS:
            raise InvalidInput("kind 只能是 text 或 image", field="kind")
        conv = await self._consultations.get_open_for(user, frame.get("conv"))
        doc: dict[str, Any] = {"conv": conv["_id"], "from": public_user(user), "kind": kind,
                               "dedupe": f"{user['_id']}:{client_id}", "ts": now()}
        screened: ScreenResult | None = None
        if kind == "text":
            text = frame.get("text")
            if not isinstance(text, str) or not text.strip():
                raise InvalidInput("text 不能为空", field="text")
            if len(text) > MAX_TEXT_CHARS:
                raise InvalidInput(f"消息不能超过 {MAX_TEXT_CHARS} 字", field="text")
            screened = self._check(text)
            if screened.action == "block":
                await self._raise_alert(screened, text, user, {"conv": conv["_id"], "client_id": client_id})
                raise ContentBlocked(words=sorted({h.word for h in screened.hits}))
            doc["text"] = screened.text
            doc["screen"] = {"action": screened.action, "words": sorted({h.word for h in screened.hits}),
                             "categories": sorted({h.category for h in screened.hits})}
        else:
            # an image the sender uploaded (else not_found, as for an unknown id), readable by the participants
            # from now on: before the message can reach them
            doc["media"] = await self._media.share_in_conversation(user, frame.get("media"), conv["_id"])
            doc["screen"] = {"action": "pass", "words": [], "categories": []}
        stored, new = await self.log.append(doc)
        if new:
            await self._publish(conv["participants"], render_message(stored))
            if screened is not None and screened.action == "alert":
                await self._raise_alert(screened, text, user, {"conv": conv["_id"], "seq": stored["seq"]})  # type: ignore[arg-type]  # a text message: text is set
        return render_ack(stored, client_id)

    async def sync(self, user: dict[str, Any], convs: Any) -> tuple[list[dict[str, Any]], list[str]]:
        """Every message after the given seq of each conversation, in order; conversations with more than
        ``sync_max_messages`` missing are truncated (the client pages the rest over REST)."""
        if not isinstance(convs, dict) or len(convs) > 1000:
            raise InvalidInput("convs 必须是 {会话 id: 已见 seq}", field="convs")
        frames: list[dict[str, Any]] = []
        truncated: list[str] = []
        for conv_id, seen in convs.items():
            if not isinstance(seen, int) or isinstance(seen, bool) or seen < 0:
                raise InvalidInput("已见 seq 必须是非负整数", field="convs", conv=conv_id)
            await self._consultations.get_for(user, conv_id)
        for conv_id, seen in convs.items():
            docs = await self.page(conv_id, after_seq=seen, before_seq=None, limit=self._sync_max + 1)
            if len(docs) > self._sync_max:
                truncated.append(conv_id)
                docs = docs[: self._sync_max]
            frames.extend(render_message(d) for d in docs)
        return frames, truncated

    async def page(self, conv_id: str, *, after_seq: int | None, before_seq: int | None,
                   limit: int) -> list[dict[str, Any]]:
        """Messages in seq order: after ``after_seq`` from the oldest, or the newest before ``before_seq``."""
        if before_seq is not None and after_seq is None:
            query = seq_range(conv_id, max(0, before_seq - limit - 1), before_seq)
            return await self._messages.find(query).sort("_id", 1).to_list()
        query = seq_range(conv_id, after_seq or 0, before_seq)
        return await self._messages.find(query).sort("_id", 1).limit(limit).to_list()

    async def before(self, conv_id: str, moment: datetime, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` messages stored up to ``moment``, in seq order (what came before a blocked one)."""
        docs = await self._messages.find({"conv": conv_id, "ts": {"$lte": moment}}).sort("seq", -1).limit(
            limit).to_list()
        return docs[::-1]

    async def mark_read(self, user: dict[str, Any], conv_id: Any, seq: Any) -> None:
        conv = await self._consultations.get_for(user, conv_id)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise InvalidInput("seq 必须是正整数", field="seq")
        await self._convs.update_one({"_id": conv["_id"]}, {"$max": {f"read.{user['_id']}": seq}})
        others = [p for p in conv["participants"] if p != user["_id"]]
        await self._publish(others, {"type": "read", "conv": conv["_id"], "user": user["_id"], "seq": seq})

    async def typing(self, user: dict[str, Any], conv_id: Any) -> None:
        conv = await self._consultations.get_open_for(user, conv_id)
        others = [p for p in conv["participants"] if p != user["_id"]]
        await self._publish(others, {"type": "typing", "conv": conv["_id"], "user": user["_id"]})

    async def recall(self, user: dict[str, Any], conv_id: Any, seq: Any) -> None:
        """The sender takes a message back within the recall window; everyone is told."""
        conv = await self._consultations.get_for(user, conv_id)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise InvalidInput("seq 必须是正整数", field="seq")
        doc = await self._messages.find_one({"_id": seq_id(conv["_id"], seq)})
        if doc is None:
            raise NotFound("消息不存在", conv=conv["_id"], seq=seq)
        if doc["from"]["id"] != user["_id"]:
            raise Forbidden("只能撤回自己发送的消息")
        if not doc.get("recalled"):
            if now() - doc["ts"] > self._recall_window:
                raise RecallExpired()
            await self._messages.update_one({"_id": doc["_id"]}, {
                "$set": {"recalled": True, "recalled_by": user["_id"], "recalled_at": now(), "text": ""},
                "$unset": {"media": ""}})
            recalled = {**doc, "recalled": True, "text": ""}
            await self._convs.update_one({"_id": conv["_id"]}, {"$max": {"last_message": summary_of(recalled)}})
            if doc.get("media") and await self._messages.find_one(
                    {"conv": conv["_id"], "media": doc["media"]}, {"_id": 1}) is None:
                # a recalled photo is no longer the others' to fetch (unless it is still in another message here)
                await self._media.unshare_from_conversation(doc["media"], conv["_id"])
        await self._publish(conv["participants"],
                            {"type": "recalled", "conv": conv["_id"], "seq": seq, "by": user["_id"]})
