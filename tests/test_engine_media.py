"""An image message's ``media`` must be a media id (issue 7): anything else is an ``invalid_frame``, nothing stored.
Since the media store (issue 8), the id must also name an image its sender uploaded (``tests/test_media.py``)."""

from __future__ import annotations

from tests.support import Client, RunningHub
from tests.test_media import image_bytes, uploaded
from tests.test_ws import pair

NOT_IDS = [
    "法轮功",  # free text, delivered unscreened before
    "https://evil.example/x.png",
    "javascript:alert(1)",
    "",
    "g" * 24,  # 24 characters, not hex
    "0123456789ABCDEF01234567",  # upper case: new_id never makes it
    "0123456789abcdef0123456",  # 23
    "0123456789abcdef012345678",  # 25
    "0123456789abcdef01234567\n",
    "0" * 5000,
    {"$ne": None},
    ["0123456789abcdef01234567"],
    42,
    None,
    True,
]


async def test_image_media_must_be_a_media_id(hub: RunningHub) -> None:
    conv, resident, doctor = await pair(hub)
    for number, media in enumerate(NOT_IDS):
        reply = await resident.request({"type": "send", "id": f"img-{number}", "conv": conv, "kind": "image",
                                        "media": media})
        assert reply["type"] == "error" and reply["code"] == "invalid_frame", (media, reply)
        assert reply["details"] == {"field": "media"}
    reply = await resident.request({"type": "send", "id": "img-missing", "conv": conv, "kind": "image"})
    assert reply["code"] == "invalid_frame"
    assert await hub.hub.db.messages.count_documents({}) == 0

    media_id = (await uploaded(hub, "resident", image_bytes()))["id"]
    ack = await resident.request({"type": "send", "id": "img-ok", "conv": conv, "kind": "image", "media": media_id})
    assert ack["type"] == "ack" and ack["seq"] == 1, ack
    delivered = await doctor.expect("message")
    assert (delivered["kind"], delivered["media"]) == ("image", media_id)
    fresh = await Client.connect(hub.ws_url, hub.users["doctor"]["token"])
    frames, _ = await fresh.sync({conv: 0})
    assert [(f["kind"], f["media"]) for f in frames if f["type"] == "message"] == [("image", media_id)]
