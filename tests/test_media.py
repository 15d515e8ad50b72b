"""The media store (issue 8 §4): uploads bounded before they are read, typed by their bytes, images verified and
re-encoded upright without their metadata; only the owner, a consultation's participants once the image was sent
there, the users granted and a sysadmin may fetch (everyone else 404); image messages name the sender's own
uploads."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from typing import Any

import tornado.httpclient
from PIL import ExifTags, Image

from tests.conftest import add_users
from tests.support import Client, RunningHub, api
from tests.test_uploads_body_limits import declared
from tests.test_ws import open_consultation, pair


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (32, 24), color: str = "green", **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A 100-byte PNG whose header declares ``width`` × ``height`` pixels (a decompression bomb's first step)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


def jpeg_with_exif() -> bytes:
    """A 40 × 20 JPEG, red on the left and blue on the right, whose EXIF says: turn 90° clockwise to show (6),
    taken at a place (GPS), with a comment."""
    image = Image.new("RGB", (40, 20), "red")
    image.paste((0, 0, 255), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TestCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 58.0, 0.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (119.0, 54.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment="浙江省湖州市长兴县某村12号".encode(), quality=95)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def upload(hub: RunningHub, user: str, data: bytes, content_type: str) -> tuple[int, Any]:
    return await api(hub.url, "POST", "/api/media", hub.users[user]["token"], raw=data,
                     headers={"Content-Type": content_type})


async def uploaded(hub: RunningHub, user: str, data: bytes, content_type: str = "image/png") -> dict[str, Any]:
    status, media = await upload(hub, user, data, content_type)
    assert status == 201, media
    return media


async def fetch(hub: RunningHub, user: str, path: str, **headers: str) -> tornado.httpclient.HTTPResponse:
    request = tornado.httpclient.HTTPRequest(hub.url + path, headers={
        "Authorization": f"Bearer {hub.users[user]['token']}", **headers}, request_timeout=60)
    return await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)


async def test_owner_uploads_and_fetches_an_image(hub: RunningHub) -> None:
    original = image_bytes("PNG", (32, 24))
    media = await uploaded(hub, "resident", original)
    assert set(media) >= {"id", "kind", "content_type", "size", "width", "height", "sha256"}
    assert (media["kind"], media["content_type"], media["width"], media["height"]) == ("image", "image/png", 32, 24)
    assert media["sha256"] == hashlib.sha256(original).hexdigest()
    response = await fetch(hub, "resident", f"/api/media/{media['id']}")
    assert response.code == 200 and len(response.body) == media["size"]
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == f'inline; filename="{media["id"]}.png"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"].startswith("private")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert Image.open(io.BytesIO(response.body)).size == (32, 24)
    again = await fetch(hub, "resident", f"/api/media/{media['id']}", **{"If-None-Match": response.headers["ETag"]})
    assert again.code == 304 and not again.body
    status, meta = await api(hub.url, "GET", f"/api/media/{media['id']}/meta", hub.users["resident"]["token"])
    assert status == 200 and meta["owner"] == hub.users["resident"]["_id"]
    assert {k: meta[k] for k in media} == media
    # the upload is audited; the same bytes again (a retry) give the first object back
    assert await hub.hub.db.audit.count_documents({"action": "media.upload", "target": media["id"]}) == 1
    status, repeat = await upload(hub, "resident", original, "image/png")
    assert status == 200 and repeat["id"] == media["id"]


async def test_a_pdf_is_a_file_always_downloaded(hub: RunningHub) -> None:
    media = await uploaded(hub, "doctor", PDF, "application/pdf")
    assert (media["kind"], media["content_type"], media["width"]) == ("file", "application/pdf", None)
    response = await fetch(hub, "doctor", f"/api/media/{media['id']}")
    assert response.code == 200 and response.body == PDF
    assert response.headers["Content-Disposition"] == f'attachment; filename="{media["id"]}.pdf"'
    status, error = await upload(hub, "doctor", PDF[:-7], "application/pdf")
    assert status == 400 and error["error"]["code"] == "invalid_file", error


async def test_a_stranger_gets_404_as_for_an_id_that_does_not_exist(hub: RunningHub) -> None:
    media = await uploaded(hub, "resident", image_bytes())
    unknown = "0123456789abcdef01234567"
    for path in (f"/api/media/{media['id']}", f"/api/media/{media['id']}/meta"):
        for user in ("stranger", "doctor", "supervisor"):
            response = await fetch(hub, user, path)
            assert response.code == 404, (user, path)
        refused = await fetch(hub, "stranger", path)
        missing = await fetch(hub, "stranger", path.replace(media["id"], unknown))
        assert missing.code == 404
        # the same answer but for the id itself: nothing tells that one exists
        assert refused.body.replace(media["id"].encode(), b"") == missing.body.replace(unknown.encode(), b"")
    assert (await fetch(hub, "stranger", "/api/media/not-an-id")).code == 404
    assert (await fetch(hub, "sysadmin", f"/api/media/{media['id']}")).code == 200
    response = await fetch(hub, "resident", f"/api/media/{media['id']}", Authorization="")
    assert response.code == 401


async def test_a_plugin_grants_a_photo_to_other_users(hub: RunningHub) -> None:
    media = await uploaded(hub, "doctor", image_bytes("JPEG"), "image/jpeg")
    assert (await fetch(hub, "resident", f"/api/media/{media['id']}")).code == 404
    await hub.hub.media.grant(media["id"], [hub.users["resident"]["_id"]])
    assert (await fetch(hub, "resident", f"/api/media/{media['id']}")).code == 200
    assert (await fetch(hub, "resident2", f"/api/media/{media['id']}")).code == 404
    doc, data = await hub.hub.media.read_for(hub.users["resident"], media["id"])
    assert doc["_id"] == media["id"] and len(data) == media["size"]


async def test_a_consultation_peer_can_fetch_after_the_image_message(hub: RunningHub) -> None:
    conv, resident, doctor = await pair(hub)
    media = await uploaded(hub, "resident", image_bytes("WEBP"), "image/webp")
    assert media["content_type"] == "image/webp"
    assert (await fetch(hub, "doctor", f"/api/media/{media['id']}")).code == 404
    ack = await resident.request({"type": "send", "conv": conv, "kind": "image", "media": media["id"]})
    assert ack["type"] == "ack" and ack["seq"] == 1, ack
    delivered = await doctor.expect("message")
    assert (delivered["kind"], delivered["media"]) == ("image", media["id"])
    response = await fetch(hub, "doctor", f"/api/media/{media['id']}")
    assert response.code == 200 and response.headers["Content-Type"] == "image/webp"
    # someone outside the conversation still cannot
    assert (await fetch(hub, "doctor2", f"/api/media/{media['id']}")).code == 404


async def test_a_recalled_image_is_no_longer_the_peers_to_fetch(hub: RunningHub) -> None:
    conv, resident, doctor = await pair(hub)
    media = await uploaded(hub, "resident", image_bytes())
    first = await resident.request({"type": "send", "conv": conv, "kind": "image", "media": media["id"]})
    second = await resident.request({"type": "send", "conv": conv, "kind": "image", "media": media["id"]})
    assert (first["seq"], second["seq"]) == (1, 2)
    path = f"/api/media/{media['id']}"
    await resident.send({"type": "recall", "conv": conv, "seq": 1})
    await doctor.expect("recalled", seq=1)
    assert (await fetch(hub, "doctor", path)).code == 200  # still in message 2
    await resident.send({"type": "recall", "conv": conv, "seq": 2})
    await doctor.expect("recalled", seq=2)
    assert (await fetch(hub, "doctor", path)).code == 404
    assert (await fetch(hub, "resident", path)).code == 200


async def test_an_image_message_names_an_image_its_sender_uploaded(hub: RunningHub) -> None:
    conv, resident, _doctor = await pair(hub)
    others = await uploaded(hub, "doctor", image_bytes())
    own_pdf = await uploaded(hub, "resident", PDF, "application/pdf")
    for media, code in ((others["id"], "not_found"), ("0123456789abcdef01234567", "not_found"),
                        (own_pdf["id"], "invalid_frame"), ("https://evil.example/x.png", "invalid_frame")):
        reply = await resident.request({"type": "send", "conv": conv, "kind": "image", "media": media})
        assert reply["type"] == "error" and reply["code"] == code, (media, reply)
        assert reply["details"]["field"] == "media"
    assert await hub.hub.db.messages.count_documents({}) == 0
    # and the doctor's photo was not shared with the resident by the attempt
    assert (await fetch(hub, "resident", f"/api/media/{others['id']}")).code == 404


async def test_exif_orientation_is_applied_and_gps_stripped(hub: RunningHub) -> None:
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    media = await uploaded(hub, "doctor", original, "image/jpeg")
    assert (media["width"], media["height"]) == (20, 40)  # turned upright
    assert media["sha256"] == hashlib.sha256(original).hexdigest()
    response = await fetch(hub, "doctor", f"/api/media/{media['id']}")
    stored = Image.open(io.BytesIO(response.body))
    assert stored.size == (20, 40)
    assert not stored.getexif() and not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif" not in response.body and "comment" not in stored.info and b"TestCam" not in response.body
    # 90° clockwise: the left (red) half is now on top, the right (blue) half at the bottom
    top, bottom = stored.convert("RGB").getpixel((10, 5)), stored.convert("RGB").getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60, (top, bottom)


async def test_a_header_bomb_is_refused_without_decoding(hub: RunningHub) -> None:
    """20,000 × 20,000 pixels would take 1.2 GB decoded; the 100-byte file is refused from its header."""
    bomb = png_declaring(20_000, 20_000)
    assert len(bomb) < 200
    status, error = await upload(hub, "resident", bomb, "image/png")
    assert status == 413 and error["error"]["code"] == "too_large", error
    assert error["error"]["details"]["limit_pixels"] == 40_000_000
    # just over the hub's own bound, under Pillow's: refused by ours
    status, error = await upload(hub, "resident", png_declaring(8000, 5001), "image/png")
    assert status == 413 and error["error"]["details"] == {"limit_pixels": 40_000_000, "width": 8000,
                                                            "height": 5001}, error
    assert await hub.hub.db["media.files"].count_documents({}) == 0


async def test_the_pixel_bound_is_a_setting(make_hub) -> None:
    running = await make_hub(media_max_pixels=1000)
    await add_users(running)
    status, error = await upload(running, "resident", image_bytes("PNG", (40, 30)), "image/png")
    assert status == 413 and error["error"]["details"]["limit_pixels"] == 1000, error
    assert (await upload(running, "resident", image_bytes("PNG", (40, 25)), "image/png"))[0] == 201


async def test_broken_and_disguised_files_are_refused(hub: RunningHub) -> None:
    jpeg = image_bytes("JPEG", (64, 64))
    cases = [
        (jpeg[: len(jpeg) // 2], "image/jpeg", 400, "invalid_file"),  # truncated
        (png_declaring(10, 10)[:-20], "image/png", 400, "invalid_file"),  # broken chunks
        (image_bytes("PNG"), "image/jpeg", 415, "unsupported_media_type"),  # a PNG declared a JPEG
        (image_bytes("PNG"), "text/html", 415, "unsupported_media_type"),
        (b"<html><script>alert(document.cookie)</script></html>", "image/png", 415, "unsupported_media_type"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml", 415,
         "unsupported_media_type"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image/png", 415,
         "unsupported_media_type"),
        (image_bytes("GIF"), "image/gif", 415, "unsupported_media_type"),
        (b"\xff\xd8\xff<html><script>alert(1)</script>", "image/jpeg", 400, "invalid_file"),  # JPEG magic only
        (b"", "image/png", 400, "invalid_input"),
    ]
    for data, content_type, status, code in cases:
        got, error = await upload(hub, "resident", data, content_type)
        assert (got, error["error"]["code"]) == (status, code), (data[:40], content_type, error)
    assert await hub.hub.db["media.files"].count_documents({}) == 0
    # a generic type is fine: the bytes say what it is; what rides after the image is not stored (re-encoded)
    polyglot = image_bytes("PNG") + b"<html><script>alert(1)</script></html>"
    media = await uploaded(hub, "resident", polyglot, "application/octet-stream")
    assert media["content_type"] == "image/png"
    response = await fetch(hub, "resident", f"/api/media/{media['id']}")
    assert response.code == 200 and b"<script>" not in response.body


async def test_an_oversize_upload_is_refused_from_its_headers(hub: RunningHub) -> None:
    token = hub.users["resident"]["token"]
    limit = hub.hub.config.media_max_bytes
    assert limit == 10 * 1024 * 1024
    assert b" 413 " in await declared(hub, "/api/media", limit + 1, token)
    # without a login nothing is read either
    assert b" 401 " in await declared(hub, "/api/media", 1000)


async def test_the_limit_is_a_setting(make_hub) -> None:
    running = await make_hub(media_max_bytes=4096)
    await add_users(running)
    assert b" 413 " in await declared(running, "/api/media", 4097, running.users["resident"]["token"])
    assert (await upload(running, "resident", image_bytes(), "image/png"))[0] == 201


async def test_media_endpoints_are_in_the_openapi_document(hub: RunningHub) -> None:
    status, doc = await api(hub.url, "GET", "/api/openapi.json")
    assert status == 200
    upload_body = doc["paths"]["/api/media"]["post"]["requestBody"]["content"]
    assert set(upload_body) == {"image/jpeg", "image/png", "image/webp", "application/pdf"}
    assert "image/png" in doc["paths"]["/api/media/{id}"]["get"]["responses"]["200"]["content"]
    assert "get" in doc["paths"]["/api/media/{id}/meta"]


async def test_a_sent_image_survives_in_sync(hub: RunningHub) -> None:
    conv = await open_consultation(hub)
    media = await uploaded(hub, "resident", image_bytes())
    resident = await Client.connect(hub.ws_url, hub.users["resident"]["token"])
    ack = await resident.request({"type": "send", "conv": conv, "kind": "image", "media": media["id"]})
    assert ack["type"] == "ack"
    doctor = await Client.connect(hub.ws_url, hub.users["doctor"]["token"])
    frames, _ = await doctor.sync({conv: 0})
    assert [(f["kind"], f["media"]) for f in frames if f["type"] == "message"] == [("image", media["id"])]
