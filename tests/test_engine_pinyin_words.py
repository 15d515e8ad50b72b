"""The ``pinyin`` flag of a sensitive word, through the API and the import, reaches the engine in use."""

from __future__ import annotations

from tests.support import RunningHub, api
from tests.test_supervision import wait_for_version, wait_until_folded
from tests.test_ws import pair


async def test_pinyin_flag_through_the_api_reaches_chat(hub: RunningHub) -> None:
    token = hub.users["supervisor"]["token"]
    status, word = await api(hub.url, "POST", "/api/sensitive-words", token,
                             {"word": "法轮功", "action": "block", "category": "政治", "pinyin": True})
    assert status == 201 and word["pinyin"] is True, word
    await wait_for_version(hub, word["version"])
    conv, resident, _ = await pair(hub)
    for text in ("我练 fa lun gong", "FǎLúnGōng", "\u202e功轮法"):
        reply = await resident.say(conv, text)
        assert reply["type"] == "error" and reply["code"] == "content_blocked", (text, reply)
    status, changed = await api(hub.url, "PATCH", f"/api/sensitive-words/{word['id']}", token, {"pinyin": False})
    assert status == 200 and changed["pinyin"] is False
    await wait_for_version(hub, changed["version"])
    assert (await resident.say(conv, "fa lun gong"))["type"] == "ack"
    assert (await resident.say(conv, "法轮功"))["code"] == "content_blocked"
    await wait_until_folded(hub)
    assert (await resident.say(conv, "falungong"))["type"] == "ack"
    status, data = await api(hub.url, "PATCH", f"/api/sensitive-words/{word['id']}", token, {"pinyin": "yes"})
    assert status == 400 and data["error"]["details"]["field"] == "pinyin"
    status, data = await api(hub.url, "POST", "/api/sensitive-words", token,
                             {"word": "六四", "action": "block", "pinyin": 1})
    assert status == 400 and data["error"]["details"]["field"] == "pinyin"


async def test_pinyin_column_of_the_text_import(hub: RunningHub) -> None:
    token = hub.users["supervisor"]["token"]
    bad = "六四,政治,block,maybe\n".encode()
    status, data = await api(hub.url, "POST", "/api/sensitive-words/import", token, raw=bad,
                             headers={"Content-Type": "text/plain"})
    assert status == 400 and data["error"]["details"]["errors"][0]["code"] == "pinyin"
    good = "六四,政治,block,1\n绿色女人,色情,mask\n毛泽东,政治,alert,0\n".encode()
    status, data = await api(hub.url, "POST", "/api/sensitive-words/import", token, raw=good,
                             headers={"Content-Type": "text/plain"})
    assert status == 200 and data["created"] == 3, data
    flags = {d["word"]: d["pinyin"] async for d in hub.hub.db.sensitive_words.find({})}
    assert flags == {"六四": True, "绿色女人": False, "毛泽东": False}
    await wait_for_version(hub, data["version"])
    engine = hub.hub.words.engine
    assert engine.screen("liu si").action == "block" and engine.screen("mao ze dong").action == "pass"
    again = "六四,政治,block\n绿色女人,色情,mask,1\n".encode()  # no column: the flag stays
    status, data = await api(hub.url, "POST", "/api/sensitive-words/import", token, raw=again,
                             headers={"Content-Type": "text/plain"})
    assert status == 200 and (data["updated"], data["unchanged"]) == (1, 1), data
    await wait_for_version(hub, data["version"])
    engine = hub.hub.words.engine
    assert engine.screen("liu si").action == "block" and engine.screen("lv se nv ren").action == "mask"
