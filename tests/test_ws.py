"""The WebSocket part of PROTOCOL.md on one hub: connecting, every frame type, errors and close codes."""

from __future__ import annotations

import asyncio
import json
import socket

import websockets

from tests.support import Client, RunningHub, api, eventually, messages_of


async def open_consultation(hub: RunningHub, resident: str = "resident", doctor: str = "doctor") -> str:
    users = hub.users
    status, conv = await api(hub.url, "POST", "/api/consultations", users[resident]["token"],
                             {"doctor_id": users[doctor]["_id"]})
    assert status in (200, 201), conv
    return conv["id"]


async def pair(hub: RunningHub) -> tuple[str, Client, Client]:
    conv = await open_consultation(hub)
    resident = await Client.connect(hub.ws_url, hub.users["resident"]["token"])
    doctor = await Client.connect(hub.ws_url, hub.users["doctor"]["token"])
    return conv, resident, doctor


async def test_welcome_tells_user_session_and_heartbeat(hub: RunningHub) -> None:
    client = await Client.connect(hub.ws_url, None)
    await client.send({"type": "auth", "token": hub.users["doctor"]["token"], "id": "a1"})
    welcome = await client.expect("welcome")
    assert welcome["user"] == {"id": hub.users["doctor"]["_id"], "role": "doctor", "name": "测试doctor"}
    assert welcome["session"] and welcome["heartbeat_secs"] > 0 and "+08:00" in welcome["server_time"]
    assert welcome["id"] == "a1"


async def test_authorization_header_on_upgrade(hub: RunningHub) -> None:
    conn = await websockets.connect(hub.ws_url, additional_headers={
        "Authorization": f"Bearer {hub.users['resident']['token']}"})
    welcome = json.loads(await asyncio.wait_for(conn.recv(), 10))
    assert welcome["type"] == "welcome" and welcome["user"]["id"] == hub.users["resident"]["_id"]
    await conn.close()


async def test_message_is_acked_and_delivered_in_order(hub: RunningHub) -> None:
    conv, resident, doctor = await pair(hub)
    acks = [await resident.say(conv, f"第{i}条：我最近血压有点高") for i in range(1, 6)]
    assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5]
    assert all(a["type"] == "ack" and a["screen"] == {"action": "pass"} and a["conv"] == conv for a in acks)
    got = [await doctor.expect("message") for _ in range(5)]
    assert [m["seq"] for m in got] == [1, 2, 3, 4, 5]
    assert got[0]["from"] == {"id": hub.users["resident"]["_id"], "role": "resident", "name": "测试resident"}
    assert got[2]["text"] == "第3条：我最近血压有点高" and got[2]["kind"] == "text"


async def test_retry_with_same_id_returns_first_ack_and_stores_once(hub: RunningHub) -> None:
    conv, resident, doctor = await pair(hub)
    first = await resident.say(conv, "请问降压药饭前吃还是饭后吃？", frame_id="m-1")
    again = await resident.say(conv, "请问降压药饭前吃还是饭后吃？", frame_id="m-1")
    assert again == first
    await resident.say(conv, "谢谢", frame_id="m-2")
    assert await hub.hub.db.messages.count_documents({"conv": conv}) == 2
    assert [m["seq"] for m in [await doctor.expect("message") for _ in range(2)]] == [1, 2]
    fresh = await Client.connect(hub.ws_url, hub.users["doctor"]["token"])
    frames, _ = await fresh.sync({conv: 0})
    assert [m["seq"] for m in messages_of(frames, conv)] == [1, 2]


async def test_sync_returns_missed_messages_and_notices(hub: RunningHub) -> None:
    conv, resident, doctor = await pair(hub)
    await doctor.close()
    for i in range(3):
        await resident.say(conv, f"消息{i}")
    doctor = await Client.connect(hub.ws_url, hub.users["doctor"]["token"])
    frames, synced = await doctor.sync({conv: 1}, inbox=0)
    assert [m["seq"] for m in messages_of(frames, conv)] == [2, 3]
    notices = [f for f in frames if f["type"] == "notice"]
    assert notices and notices[0]["kind"] == "consultation" and notices[0]["inbox"] == 1
    assert synced["truncated"] == []


async def test_sync_truncates_beyond_the_limit(make_hub) -> None:
    from tests.conftest import add_users
    running = await make_hub(sync_max_messages=3)
    await add_users(running)
    conv, resident, _doctor = await pair(running)
    for i in range(5):
        await resident.say(conv, f"消息{i}")
    fresh = await Client.connect(running.ws_url, running.users["doctor"]["token"])
    frames, synced = await fresh.sync({conv: 0})
    assert [m["seq"] for m in messages_of(frames, conv)] == [1, 2, 3]
    assert synced["truncated"] == [conv]


async def test_read_typing_and_recall_reach_the_other_side(hub: RunningHub) -> None:
    conv, resident, doctor = await pair(hub)
    ack = await resident.say(conv, "医生您好")
    await doctor.send({"type": "read", "conv": conv, "seq": ack["seq"]})
    read = await resident.expect("read")
    assert read == {"type": "read", "conv": conv, "user": hub.users["doctor"]["_id"], "seq": 1}
    await doctor.send({"type": "typing", "conv": conv})
    assert (await resident.expect("typing"))["user"] == hub.users["doctor"]["_id"]
    await resident.send({"type": "recall", "conv": conv, "seq": 1})
    recalled = await doctor.expect("recalled")
    assert recalled == {"type": "recalled", "conv": conv, "seq": 1, "by": hub.users["resident"]["_id"]}
    fresh = await Client.connect(hub.ws_url, hub.users["doctor"]["token"])
    frames, _ = await fresh.sync({conv: 0})
    message = messages_of(frames, conv)[0]
    assert message["recalled"] is True and "text" not in message
    _, listed = await eventually(lambda: api(hub.url, "GET", "/api/consultations", hub.users["doctor"]["token"]),
                                 lambda reply: reply[1]["items"][0]["last_seq"] == 1)
    assert listed["items"][0]["unread"] == 0 and listed["items"][0]["read_seq"] == 1
    # Recalled within the summary's write period: the summary written later must not bring the text back.
    assert listed["items"][0]["last_message"]["recalled"] is True and listed["items"][0]["last_message"]["text"] == ""
    _, listed = await api(hub.url, "GET", "/api/consultations", hub.users["resident"]["token"])
    assert listed["items"][0]["peer_read_seq"] == 1  # the resident sees how far the doctor has read


async def test_recall_refused_for_others_messages_and_after_the_window(make_hub) -> None:
    from tests.conftest import add_users
    running = await make_hub(recall_window_secs=1)
    await add_users(running)
    conv, resident, doctor = await pair(running)
    await resident.say(conv, "这条医生不能撤回")
    refused = await doctor.request({"type": "recall", "conv": conv, "seq": 1})
    assert refused["code"] == "forbidden"
    await asyncio.sleep(1.2)
    late = await resident.request({"type": "recall", "conv": conv, "seq": 1})
    assert late["code"] == "recall_expired"
    missing = await resident.request({"type": "recall", "conv": conv, "seq": 99})
    assert missing["code"] == "not_found"


async def test_ping_pong(hub: RunningHub) -> None:
    client = await Client.connect(hub.ws_url, hub.users["resident"]["token"])
    assert (await client.request({"type": "ping"}))["type"] == "pong"


async def test_bad_frames_get_error_codes_and_change_nothing(hub: RunningHub) -> None:
    conv, resident, _ = await pair(hub)
    await resident.conn.send("{not json")
    assert (await resident.expect("error"))["code"] == "invalid_frame"
    await resident.conn.send(json.dumps([1, 2]))
    assert (await resident.expect("error"))["code"] == "invalid_frame"
    await resident.conn.send(b"\x00\x01")
    assert (await resident.expect("error"))["code"] == "invalid_frame"
    cases = [
        ({"type": "nonsense"}, "invalid_frame"),
        ({"type": "send", "conv": conv, "text": "没有 id"}, "invalid_input"),
        ({"type": "send", "id": "x" * 65, "conv": conv, "text": "id 太长"}, "invalid_frame"),
        ({"type": "send", "id": "k1", "conv": conv, "kind": "video", "text": "x"}, "invalid_input"),
        ({"type": "send", "id": "k2", "conv": conv, "text": 42}, "invalid_input"),
        ({"type": "send", "id": "k3", "conv": conv, "text": "   "}, "invalid_input"),
        ({"type": "send", "id": "k4", "conv": "nope", "text": "不存在的会话"}, "not_found"),
        ({"type": "send", "id": "k5", "conv": ["list"], "text": "x"}, "invalid_input"),
        ({"type": "read", "id": "k6", "conv": conv, "seq": "1"}, "invalid_input"),
        ({"type": "sync", "id": "k7", "convs": {conv: -1}}, "invalid_input"),
        ({"type": "sync", "id": "k8", "convs": [conv]}, "invalid_input"),
        ({"type": "auth", "id": "k9", "token": "again"}, "invalid_frame"),
    ]
    for frame, code in cases:
        if len(frame.get("id", "")) not in range(1, 65):  # no usable id: the error carries none
            await resident.send(frame)
            reply = await resident.expect("error")
        else:
            reply = await resident.request(frame)
        assert reply["type"] == "error" and reply["code"] == code, (frame, reply)
        assert reply["message"]
    assert await hub.hub.db.messages.count_documents({}) == 0
    assert (await resident.request({"type": "ping"}))["type"] == "pong"  # still connected


async def test_forged_expired_and_missing_tokens_close_4001(hub: RunningHub) -> None:
    import jwt
    forged = jwt.encode({"sub": hub.users["doctor"]["_id"], "exp": 2_000_000_000, "iat": 1, "typ": "access",
                         "ver": 0}, "not-the-secret-key-not-the-secret-key", algorithm="HS256")
    expired = jwt.encode({"sub": hub.users["doctor"]["_id"], "exp": 1, "iat": 0, "typ": "access", "ver": 0},
                         hub.hub.config.secret_key, algorithm="HS256")
    for token in (forged, expired, "garbage", None):
        client = await Client.connect(hub.ws_url, None)
        await client.send({"type": "auth", "token": token})
        error = await client.expect("error")
        assert error["code"] == "unauthorized"
        assert await client.closed_with() == 4001
    client = await Client.connect(hub.ws_url, None)
    await client.send({"type": "send", "id": "1", "conv": "x", "text": "未登录"})
    assert await client.closed_with() == 4001


async def test_silent_socket_closed_4001_after_auth_timeout(make_hub) -> None:
    running = await make_hub(ws_auth_timeout_secs=0.5)
    client = await Client.connect(running.ws_url, None)
    assert await client.closed_with(timeout=5) == 4001


async def test_strangers_frames_into_others_conversation_are_refused(hub: RunningHub) -> None:
    conv, resident, _doctor = await pair(hub)
    await resident.say(conv, "只有我和医生能看到")
    stranger = await Client.connect(hub.ws_url, hub.users["stranger"]["token"])
    for frame in ({"type": "send", "conv": conv, "text": "插话"}, {"type": "sync", "convs": {conv: 0}},
                  {"type": "read", "conv": conv, "seq": 1}, {"type": "typing", "conv": conv},
                  {"type": "recall", "conv": conv, "seq": 1}):
        reply = await stranger.request(dict(frame))
        assert reply["code"] == "forbidden", (frame, reply)
    other_doctor = await Client.connect(hub.ws_url, hub.users["doctor2"]["token"])
    assert (await other_doctor.say(conv, "别的团队的医生"))["code"] == "forbidden"
    status, _ = await api(hub.url, "GET", f"/api/consultations/{conv}/messages", hub.users["stranger"]["token"])
    assert status == 403
    assert await hub.hub.db.messages.count_documents({"conv": conv}) == 1
    assert not [f for f in stranger.seen if f["type"] == "message"]


async def test_cross_origin_upgrade_refused(hub: RunningHub) -> None:
    try:
        await websockets.connect(hub.ws_url, origin="http://evil.example")
        raise AssertionError("upgrade from a foreign origin was accepted")
    except websockets.InvalidStatus as exc:
        assert exc.response.status_code == 403
    same = await websockets.connect(hub.ws_url, origin=f"http://127.0.0.1:{hub.port}")
    await same.close()


async def test_allowed_origin_from_config(make_hub) -> None:
    running = await make_hub(allowed_origins=["https://h5.example.cn"])
    conn = await websockets.connect(running.ws_url, origin="https://h5.example.cn")
    assert conn.response.status_code == 101  # the configured origin is let in
    await conn.close()


async def test_frame_over_limit_closes_1009(make_hub) -> None:
    from tests.conftest import add_users
    running = await make_hub(ws_max_frame_bytes=4096)
    await add_users(running)
    client = await Client.connect(running.ws_url, running.users["resident"]["token"])
    await client.send({"type": "send", "id": "big", "conv": "x", "text": "长" * 5000})
    assert await client.closed_with() == 1009


async def test_flood_is_rate_limited_then_closed_4008(make_hub) -> None:
    from tests.conftest import add_users
    running = await make_hub(ws_rate_per_sec=5, ws_rate_burst=5, ws_rate_strikes=3)
    await add_users(running)
    client = await Client.connect(running.ws_url, running.users["resident"]["token"])
    for i in range(20):
        try:
            await client.send({"type": "ping", "id": str(i)})
        except websockets.ConnectionClosed:
            break
    codes = []
    try:
        while True:
            frame = await client.recv(5)
            codes.append(frame.get("code") or frame["type"])
    except websockets.ConnectionClosed as exc:
        assert exc.rcvd.code == 4008
    # The auth frame was counted before the user was known, on the socket's own limiter, not on the user's.
    assert codes.count("pong") == 5 and "rate_limited" in codes


async def test_stalled_reader_closed_4008_others_keep_receiving(make_hub) -> None:
    from tests.conftest import add_users
    running = await make_hub(ws_send_queue_frames=50, ws_send_queue_bytes=10_000_000, ws_rate_per_sec=10_000,
                             ws_rate_burst=10_000)
    users = await add_users(running)
    conv = await open_consultation(running)
    # The stalled reader: a raw socket that never reads, with tiny buffers so the kernel fills at once.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", running.port))
    stalled = await websockets.connect(running.ws_url, sock=sock, max_queue=1)
    await stalled.send(json.dumps({"type": "auth", "token": users["doctor"]["token"]}))
    stalled.transport.pause_reading()
    healthy = await Client.connect(running.ws_url, users["doctor"]["token"])
    resident = await Client.connect(running.ws_url, users["resident"]["token"])
    text = "血压" * 2400
    closed = None
    for i in range(2000):
        ack = await resident.say(conv, f"{i}:{text}")
        assert ack["type"] == "ack"
        got = await healthy.expect("message", seq=ack["seq"])
        assert got["seq"] == i + 1
        sessions = running.hub.sessions.of_user(users["doctor"]["_id"])
        if len(sessions) == 1:
            closed = i
            break
    assert closed is not None, "the stalled session was never closed"
    stalled.transport.resume_reading()
    try:
        while True:
            await asyncio.wait_for(stalled.recv(), 10)
    except websockets.ConnectionClosed as exc:
        assert exc.rcvd is None or exc.rcvd.code == 4008
    finally:
        await stalled.close()
        sock.close()


async def test_occasional_overrun_is_refused_but_forgiven(make_hub) -> None:
    from tests.conftest import add_users
    running = await make_hub(ws_rate_per_sec=5, ws_rate_burst=5, ws_rate_strikes=4)
    await add_users(running)
    client = await Client.connect(running.ws_url, running.users["resident"]["token"])
    for _round in range(3):  # each round: the burst used up, then up to 4 refusals in a row, then a pause
        replies = []
        for i in range(8):
            await client.send({"type": "ping", "id": str(i)})
        while len(replies) < 8:
            frame = await client.recv()
            replies.append(frame.get("code") or frame["type"])
        assert replies.count("rate_limited") >= 3 and "pong" in replies
        await asyncio.sleep(1.1)
    assert (await client.request({"type": "ping"}))["type"] == "pong"  # never closed
