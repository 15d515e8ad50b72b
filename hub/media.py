"""The media store: images and files that users upload, kept in MongoDB (GridFS bucket ``media``).

An upload is bounded before it is parsed (the handler's body limit, ``media_max_bytes``), its type is taken from
its bytes, never from its ``Content-Type``, and an image is decoded, turned upright and re-encoded off the event
loop with its metadata (EXIF with GPS, XMP, comments, text chunks) left behind: what is stored is only pixels.
A media object is readable by its owner, by the participants of a conversation it was sent in, by the users a
plugin granted it to, and by a sysadmin; anyone else is told it does not exist (404), so ids leak nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.asynchronous.grid_file import AsyncGridOut
from PIL import Image, ImageOps
from pymongo.asynchronous.database import AsyncDatabase

from hub.errors import HubError, InvalidFrame, InvalidInput, NotFound, TooLarge
from hub.ids import is_id, iso, new_id, now
from hub.policy import may_read_media
from hub.spreadsheets import InvalidFile
from hub.store import Index

BUCKET = "media"
FILES = f"{BUCKET}.files"
INDEXES = [
    Index(FILES, [("metadata.owner", 1), ("metadata.sha256", 1)], "owner_sha256"),
]
#: Sniffed type → (kind, Pillow format or None, file extension). GIF is refused: animation would be lost in
#: re-encoding, and one decoder fewer is one attack surface fewer; cameras and screenshots give JPEG and PNG.
ALLOWED_TYPES: dict[str, tuple[str, str | None, str]] = {
    "image/jpeg": ("image", "JPEG", "jpg"),
    "image/png": ("image", "PNG", "png"),
    "image/webp": ("image", "WEBP", "webp"),
    "application/pdf": ("file", None, "pdf"),
}
#: A declared Content-Type that says nothing about the bytes; any other one must name the sniffed type.
GENERIC_TYPES = frozenset({"", "application/octet-stream"})
CHUNK_BYTES = 255 * 1024
#: Images decoded at once: memory is bounded by workers × pixels × 4 bytes × 2 (the decoded and the upright copy),
#: ~640 MB at the default 40 MP; uploads are rare next to messages.
IMAGE_WORKERS = 2
JPEG_QUALITY = 90
WEBP_QUALITY = 90
PDF_EOF_WINDOW_BYTES = 1024


class UnsupportedMediaType(HubError):
    code, status, message = "unsupported_media_type", 415, "仅支持 JPEG、PNG、WebP 图片或 PDF 文件"


@dataclass(frozen=True)
class Prepared:
    """What is stored of an upload: the checked (re-encoded, for an image) bytes and what is known of them."""

    kind: str
    content_type: str
    data: bytes
    width: int | None
    height: int | None
    sha256: str  # of the original upload
    original_size: int


def sniff(data: bytes) -> str | None:
    """The type of the bytes by their signature, or None for anything not allowed (HTML, SVG, GIF, …)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def prepare_upload(data: bytes, declared_type: str, max_pixels: int) -> Prepared:
    """Check an upload and make what is stored of it. CPU work: runs in the store's worker threads."""
    detected = sniff(data)
    declared = declared_type.split(";", 1)[0].strip().lower()
    if detected is None:
        raise UnsupportedMediaType(declared=declared)
    if declared not in GENERIC_TYPES and declared != detected:
        raise UnsupportedMediaType("声明的类型与文件内容不符", declared=declared, detected=detected)
    digest = hashlib.sha256(data).hexdigest()
    kind, image_format, _ = ALLOWED_TYPES[detected]
    if image_format is None:
        _check_pdf(data)
        return Prepared(kind, detected, data, None, None, digest, len(data))
    stored, width, height = _clean_image(data, image_format, max_pixels)
    return Prepared(kind, detected, stored, width, height, digest, len(data))


def _check_pdf(data: bytes) -> None:
    """A PDF is only checked for its frame (header and end marker) and always served as a download."""
    if b"%%EOF" not in data[-PDF_EOF_WINDOW_BYTES:]:
        raise InvalidFile("PDF 文件不完整", reason="truncated")


def _clean_image(data: bytes, image_format: str, max_pixels: int) -> tuple[bytes, int, int]:
    """Verify an image and re-encode it upright, with nothing but its pixels (and colour profile)."""
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as probe:
            width, height = probe.size  # from the header: nothing decoded yet
            if width * height > max_pixels:
                raise _too_many_pixels(max_pixels, width, height)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard (at twice its MAX_IMAGE_PIXELS) fires inside open(), before ours can look
        raise _too_many_pixels(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError) as exc:
        # Pillow reports a broken or truncated file as any of these
        raise InvalidFile("图片已损坏或不完整", reason=type(exc).__name__) from None
    return _encode(upright, image_format), upright.width, upright.height


def _too_many_pixels(max_pixels: int, width: int | None = None, height: int | None = None) -> TooLarge:
    return TooLarge(f"图片不能超过 {max_pixels} 像素", limit_pixels=max_pixels, width=width, height=height)


def _encode(image: Image.Image, image_format: str) -> bytes:
    """Pillow writes some of ``image.info`` back (a JPEG's comment, a PNG's profile and transparency): only
    what is not about the person or the place is kept."""
    kept: dict[str | tuple[int, int], Any] = {k: image.info[k] for k in ("icc_profile", "transparency")
                                             if k in image.info}
    image.info = kept
    options: dict[str, Any] = {"icc_profile": kept["icc_profile"]} if "icc_profile" in kept else {}
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options.update(quality=JPEG_QUALITY)
    elif image_format == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA")
        options.update(quality=WEBP_QUALITY)
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


def render_media(doc: dict[str, Any]) -> dict[str, Any]:
    meta = doc["metadata"]
    return {"id": doc["_id"], "kind": meta["kind"], "content_type": meta["content_type"], "size": doc["length"],
            "width": meta["width"], "height": meta["height"], "sha256": meta["sha256"], "owner": meta["owner"],
            "created_at": iso(meta["created_at"])}


def file_name(doc: dict[str, Any]) -> str:
    return f"{doc['_id']}.{ALLOWED_TYPES[doc['metadata']['content_type']][2]}"


class MediaStore:
    """Stores, checks access to and serves media objects; built once with the hub (``hub.media``).

    The GridFS files document is the media document: ``_id`` is a hub id and ``metadata`` holds ``owner``,
    ``kind`` (``image`` or ``file``), ``content_type``, ``width``, ``height``, ``sha256`` (of the original),
    ``readers`` (user ids granted) and ``convs`` (conversations it was sent in). GridFS writes that document after
    the last chunk, so a half-stored upload is never visible.
    """

    def __init__(self, db: AsyncDatabase, *, max_bytes: int, max_pixels: int) -> None:
        self._files = db[FILES]
        self._convs = db.conversations
        self._bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self._workers = ThreadPoolExecutor(max_workers=IMAGE_WORKERS, thread_name_prefix="media")

    async def store(self, owner: dict[str, Any], data: bytes, content_type: str = "") -> tuple[dict[str, Any], bool]:
        """Check and store an upload of ``owner``; returns the media document and whether it is new (the same
        bytes uploaded again by the same owner, a retry, return the first one)."""
        if not data:
            raise InvalidInput("文件为空")
        if len(data) > self.max_bytes:
            raise TooLarge(f"文件不能超过 {self.max_bytes} 字节", limit_bytes=self.max_bytes)
        loop = asyncio.get_running_loop()
        prepared = await loop.run_in_executor(self._workers, prepare_upload, data, content_type, self.max_pixels)
        existing = await self._files.find_one({"metadata.owner": owner["_id"], "metadata.sha256": prepared.sha256})
        if existing is not None:
            return existing, False
        media_id = new_id()
        metadata = {"owner": owner["_id"], "kind": prepared.kind, "content_type": prepared.content_type,
                    "width": prepared.width, "height": prepared.height, "sha256": prepared.sha256,
                    "original_size": prepared.original_size, "readers": [], "convs": [], "created_at": now()}
        name = f"{media_id}.{ALLOWED_TYPES[prepared.content_type][2]}"
        await self._bucket.upload_from_stream_with_id(media_id, name, prepared.data, metadata=metadata)
        doc = await self._files.find_one({"_id": media_id})
        assert doc is not None  # written by the upload just above
        return doc, True

    async def get_for(self, user: dict[str, Any], media_id: Any) -> dict[str, Any]:
        """The media document if ``user`` may read it; NotFound otherwise, the same as for an unknown id."""
        doc = await self._files.find_one({"_id": media_id}) if is_id(media_id) else None
        if doc is None or not await self._may_read(user, doc):
            raise NotFound("文件不存在", id=media_id if isinstance(media_id, str) else None)
        return doc

    async def _may_read(self, user: dict[str, Any], doc: dict[str, Any]) -> bool:
        meta = doc["metadata"]
        if may_read_media(user, meta):
            return True
        convs = meta.get("convs") or []
        return bool(convs) and await self._convs.find_one(
            {"_id": {"$in": convs}, "participants": user["_id"]}, {"_id": 1}) is not None

    async def open_for(self, user: dict[str, Any], media_id: Any) -> tuple[dict[str, Any], AsyncGridOut]:
        """The media document and a stream of its bytes (``await stream.readchunk()``), for a reader."""
        doc = await self.get_for(user, media_id)
        return doc, await self._bucket.open_download_stream(doc["_id"])

    async def read_for(self, user: dict[str, Any], media_id: Any) -> tuple[dict[str, Any], bytes]:
        """The media document and all its bytes, for a reader."""
        doc, stream = await self.open_for(user, media_id)
        return doc, await stream.read()

    async def grant(self, media_id: str, user_ids: list[str]) -> None:
        """Let these users read the media object too (a plugin sharing a photo with a resident or a team)."""
        result = await self._files.update_one({"_id": media_id},
                                              {"$addToSet": {"metadata.readers": {"$each": list(user_ids)}}})
        if result.matched_count == 0:
            raise NotFound("文件不存在", id=media_id)

    async def share_in_conversation(self, sender: dict[str, Any], media_id: Any, conv_id: str) -> str:
        """Before an image message is stored: the media must be an image its sender owns; the conversation's
        participants may read it from then on. Someone else's media is NotFound, like an unknown id."""
        if not is_id(media_id):
            raise InvalidFrame("media 必须是已上传媒体的 id", field="media")
        doc = await self._files.find_one({"_id": media_id, "metadata.owner": sender["_id"]}, {"metadata.kind": 1})
        if doc is None:
            raise NotFound("图片不存在，请先上传", field="media", id=media_id)
        if doc["metadata"]["kind"] != "image":
            raise InvalidFrame("media 必须是图片", field="media")
        await self._files.update_one({"_id": media_id}, {"$addToSet": {"metadata.convs": conv_id}})
        return media_id

    async def unshare_from_conversation(self, media_id: str, conv_id: str) -> None:
        """After the last message of a conversation naming the media was recalled: its participants no longer
        read it through that conversation (the owner and granted users still do)."""
        await self._files.update_one({"_id": media_id}, {"$pull": {"metadata.convs": conv_id}})

    def close(self) -> None:
        self._workers.shutdown(wait=False, cancel_futures=True)
