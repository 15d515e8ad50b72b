"""Media: upload an image or a PDF, fetch its bytes and its description (``hub.media``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.base import BaseHandler
from hub.media import ALLOWED_TYPES, file_name, render_media

if TYPE_CHECKING:
    from hub.app import Hub

MEDIA_TYPES = tuple(ALLOWED_TYPES)
#: A private copy may be kept by the reader's own browser (an id's bytes never change); ``Vary`` keeps a shared
#: device from showing one account's cached copy to the next without asking the hub.
CACHE_CONTROL = "private, max-age=86400"


class MediaUploadHandler(BaseHandler):
    body_types = {"post": MEDIA_TYPES}
    # declared (empty) so that the caller is authenticated from the headers, before any of the body is read
    query_schema = {"post": {}}

    @classmethod
    def body_limit(cls, hub: Hub) -> int:
        return int(hub.config.media_max_bytes)

    async def post(self) -> None:
        """Upload an image (JPEG, PNG, WebP) or a PDF as the raw body; its type is read from its bytes.

        An image is verified, turned upright (EXIF orientation) and stored without its metadata (no GPS); the
        reply's ``sha256`` is the original's. The same bytes uploaded again by the same account return the
        first object (200)."""
        user = await self.authenticate()
        doc, new = await self.hub.media.store(user, bytes(self.request.body),
                                              self.request.headers.get("Content-Type", ""))
        if new:
            await self.audit("media.upload", doc["_id"], kind=doc["metadata"]["kind"], size=doc["length"],
                             content_type=doc["metadata"]["content_type"])
        self.reply(render_media(doc), 201 if new else 200)


class MediaHandler(BaseHandler):
    reply_types = {"get": MEDIA_TYPES}
    query_schema = {"get": {}}

    async def get(self, media_id: str) -> None:
        """The bytes of a media object, for its owner, the participants of a conversation it was sent in, the
        users a plugin granted it to and a sysadmin; anyone else gets 404, as for an id that does not exist."""
        user = await self.authenticate()
        doc, stream = await self.hub.media.open_for(user, media_id)
        meta = doc["metadata"]
        # an image is shown where it is opened; a PDF is always a download, never rendered in the hub's origin
        disposition = "inline" if meta["kind"] == "image" else "attachment"
        self.set_header("Content-Type", meta["content_type"])
        self.set_header("Content-Disposition", f'{disposition}; filename="{file_name(doc)}"')
        self.set_header("Cache-Control", CACHE_CONTROL)
        self.set_header("Vary", "Authorization")
        self.set_header("ETag", f'"{doc["_id"]}"')
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return
        self.set_header("Content-Length", doc["length"])
        while chunk := await stream.readchunk():
            self.write(chunk)
            await self.flush()
        self.finish()


class MediaMetaHandler(BaseHandler):
    query_schema = {"get": {}}

    async def get(self, media_id: str) -> None:
        """What a media object is (kind, type, size, dimensions, SHA-256 of the original), for its readers."""
        user = await self.authenticate()
        self.reply(render_media(await self.hub.media.get_for(user, media_id)))


ROUTES = [
    (r"/api/media", MediaUploadHandler),
    (r"/api/media/([^/]+)", MediaHandler),
    (r"/api/media/([^/]+)/meta", MediaMetaHandler),
]
