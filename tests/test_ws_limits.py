"""WebSocket limits (issue 7, ws): sockets per user, one rate limit per user across their sockets, a stalled
reader dropped quietly, frames nested too deep."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import socket
import time

import pytest
import websockets

from tests.conftest import add_users
from tests.support import Client, RunningHub, wait_for


async def refused_with(ws_url: str, token: str) -> tuple[dict, int]:
    """Authenticate a new socket that the hub is expected to refuse: its error frame and close code."""
    client = await Client.connect(ws_url, None)
    await client.send({"type": "auth", "token": token, "id": "over"})
    error = await client.expect("error", "welcome")
    return error, await client.closed_with()


async def test_one_socket_over_the_cap_is_refused_4008_and_the_others_stay(make_hub) -> None:
    running = await make_hub(ws_max_sockets_per_user=3)
    users = await add_users(running)
    token = users["doctor"]["token"]
    held = [await Client.connect(running.ws_url, token) for _ in range(3)]
    error, code = await refused_with(running.ws_url, token)
    assert error["type"] == "error" and error["code"] == "too_many_sockets" and error["id"] == "over"
    assert code == 4008
    assert len(running.hub.sessions.of_user(users["doctor"]["_id"])) == 3
    for client in held:  # the sockets already open are untouched
        assert (await client.request({"type": "ping"}))["type"] == "pong"
    # Another user is not counted against this one; a closed socket frees its place.
    assert (await Client.connect(running.ws_url, users["resident"]["token"])).user["role"] == "resident"
    await held[0].close()
    await wait_for(lambda: len(running.hub.sessions.of_user(users["doctor"]["_id"])) < 3, "the closed socket let go")
    assert (await Client.connect(running.ws_url, token)).user["id"] == users["doctor"]["_id"]


async def test_the_cap_also_holds_for_header_authentication(make_hub) -> None:
    running = await make_hub(ws_max_sockets_per_user=1)
    users = await add_users(running)
    header = {"Authorization": f"Bearer {users['resident']['token']}"}
    first = await websockets.connect(running.ws_url, additional_headers=header)
    assert json.loads(await asyncio.wait_for(first.recv(), 10))["type"] == "welcome"
    second = await websockets.connect(running.ws_url, additional_headers=header)
    assert json.loads(await asyncio.wait_for(second.recv(), 10))["code"] == "too_many_sockets"
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(second.recv(), 10)
    assert closed.value.rcvd.code == 4008
    await first.close()


async def test_sockets_of_one_user_share_one_rate_limit(make_hub) -> None:
    # A refill so slow that no token comes back during the test: exactly the burst is answered.
    running = await make_hub(ws_max_sockets_per_user=20, ws_rate_per_sec=0.0001, ws_rate_burst=10,
                             ws_rate_strikes=1000)
    users = await add_users(running)
    clients = [await Client.connect(running.ws_url, users["resident"]["token"]) for _ in range(20)]
    for i in range(3):
        await asyncio.gather(*(c.send({"type": "ping", "id": f"{n}-{i}"}) for n, c in enumerate(clients)))
    replies = []
    for client in clients:
        replies += [(await client.expect("pong", "error")) for _ in range(3)]
    kinds = [r.get("code") or r["type"] for r in replies]
    assert kinds.count("pong") == 10 and kinds.count("rate_limited") == 50
    # Another user has a bucket of their own.
    other = await Client.connect(running.ws_url, users["doctor"]["token"])
    assert (await other.request({"type": "ping"}))["type"] == "pong"


async def test_flood_spread_over_sockets_is_closed_like_one(make_hub) -> None:
    running = await make_hub(ws_max_sockets_per_user=20, ws_rate_per_sec=0.0001, ws_rate_burst=5,
                             ws_rate_strikes=10)
    users = await add_users(running)
    clients = [await Client.connect(running.ws_url, users["resident"]["token"]) for _ in range(20)]
    # 5 answered, then 10 refusals in a row for the user; every frame after those closes its socket.
    replies = []
    for client in clients[:15]:  # one after the other: a rate_limited error carries no id
        await client.send({"type": "ping"})
        replies.append(await client.expect("pong", "error"))
    assert [r.get("code") or r["type"] for r in replies] == ["pong"] * 5 + ["rate_limited"] * 10
    for client in clients[15:]:
        await client.send({"type": "ping"})
    codes = await asyncio.gather(*(c.closed_with() for c in clients[15:]))
    assert codes == [4008] * 5
    assert all(not c.conn.close_code for c in clients[:15])


async def test_closing_every_socket_buys_no_new_burst(make_hub) -> None:
    running = await make_hub(ws_rate_per_sec=0.0001, ws_rate_burst=3, ws_rate_strikes=1000)
    users = await add_users(running)
    first = await Client.connect(running.ws_url, users["resident"]["token"])
    assert [(await first.request({"type": "ping"}))["type"] for _ in range(3)] == ["pong"] * 3
    await first.close()
    await wait_for(lambda: not running.hub.sessions.of_user(users["resident"]["_id"]), "the socket let go")
    again = await Client.connect(running.ws_url, users["resident"]["token"])
    await again.send({"type": "ping"})
    assert (await again.expect("pong", "error"))["code"] == "rate_limited"


async def stalled_socket(running: RunningHub, token: str) -> tuple[websockets.ClientConnection, socket.socket]:
    """A client that has stopped reading: tiny receive buffer, reading paused, so the kernel fills at once."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", running.port))
    conn = await websockets.connect(running.ws_url, sock=sock, max_queue=1)
    await conn.send(json.dumps({"type": "auth", "token": token}))
    conn.transport.pause_reading()
    return conn, sock


async def test_dropping_a_stalled_reader_logs_one_line_without_traceback(make_hub, caplog) -> None:
    running = await make_hub(ws_send_queue_frames=20)
    users = await add_users(running)
    doctor_id = users["doctor"]["_id"]
    stalled, sock = await stalled_socket(running, users["doctor"]["token"])
    healthy = await Client.connect(running.ws_url, users["resident"]["token"])
    await wait_for(lambda: running.hub.sessions.of_user(doctor_id), "the stalled reader authenticated")
    (session,) = running.hub.sessions.of_user(doctor_id)
    frame = json.dumps({"type": "notice", "kind": "system", "title": "t", "body": "长" * 20_000})
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    # Published straight to the sessions (no database write per frame): the stall is reached in milliseconds.
    for _ in range(5000):
        running.hub.sessions.deliver([doctor_id], frame)
        await asyncio.sleep(0)
        if session.closed:
            break
    assert session.closed, "the stalled reader was never dropped"
    stalled.transport.abort()  # the phone is gone: the hub's pending writes fail
    sock.close()
    await wait_for(lambda: not running.hub.sessions.of_user(doctor_id), "the dropped session ended")
    gc.collect()  # unretrieved failed writes are reported when collected
    await asyncio.sleep(0.1)
    assert (await healthy.request({"type": "ping"}))["type"] == "pong"
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) <= 1, [r.getMessage() for r in lines]
    assert all(r.exc_info is None and "Traceback" not in r.getMessage() for r in lines)
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("depth", [5000, 50])
async def test_deeply_nested_frame_is_invalid_and_the_socket_stays(hub: RunningHub, depth: int) -> None:
    client = await Client.connect(hub.ws_url, hub.users["resident"]["token"])
    nested = "[" * depth + "]" * depth
    await client.conn.send('{"type": "sync", "id": "deep", "convs": ' + nested + "}")
    reply = await client.expect("error")
    assert reply["code"] == "invalid_frame"
    await client.conn.send("[" * depth + "]" * depth)
    assert (await client.expect("error"))["code"] == "invalid_frame"
    assert (await client.request({"type": "ping"}))["type"] == "pong"
    assert not client.conn.close_code


async def test_the_cap_counts_sockets_on_every_process_sharing_redis(make_hub, redis_server) -> None:
    node_a = await make_hub(redis_url=redis_server.url, ws_max_sockets_per_user=2)
    users = await add_users(node_a)
    node_b = await make_hub(redis_url=redis_server.url, ws_max_sockets_per_user=2)
    token = users["doctor"]["token"]
    on_a = await Client.connect(node_a.ws_url, token)
    await Client.connect(node_b.ws_url, token)
    for node in (node_a, node_b):
        error, code = await refused_with(node.ws_url, token)
        assert (error["code"], code) == ("too_many_sockets", 4008)
    assert (await Client.connect(node_b.ws_url, users["resident"]["token"])).user["role"] == "resident"
    await on_a.close()  # its place is given back on every process
    deadline = time.monotonic() + 10
    while True:
        client = await Client.connect(node_b.ws_url, None)
        await client.send({"type": "auth", "token": token})
        if (await client.expect("welcome", "error"))["type"] == "welcome" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert len(node_b.hub.sessions.of_user(users["doctor"]["_id"])) == 2



async def test_leases_are_renewed_while_held_and_end_when_a_process_dies(redis_server) -> None:
    import redis.asyncio as redis

    from hub.socket_leases import RedisSocketLeases
    client = redis.from_url(redis_server.url, decode_responses=True)
    user = "lease-user-" + str(time.monotonic_ns())
    held: list[tuple[str, str]] = []
    alive = RedisSocketLeases(client, "alive", max_sockets=2, lease_secs=2)
    dead = RedisSocketLeases(client, "dead", max_sockets=2, lease_secs=1)  # never renews: a killed process
    await alive.start(lambda: list(held))
    try:
        assert await alive.claim(user, "s1")
        held.append((user, "s1"))
        assert await dead.claim(user, "s2")
        assert not await alive.claim(user, "s3")  # two held, across the processes
        await asyncio.sleep(3.2)  # past both leases: the dead process's ended, the renewed one holds
        assert await alive.claim(user, "s3")
        assert not await dead.claim(user, "s4")
        alive.release(user, "s3")  # given back in the background
        deadline = time.monotonic() + 5
        while not await dead.claim(user, "s4") and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert await client.zscore("hub:sockets:" + user, "dead:s4") is not None
    finally:
        await alive.close()
        await dead.close()
        await client.aclose()


async def test_a_stopped_process_gives_its_leases_back(make_hub, redis_server) -> None:
    node_a = await make_hub(redis_url=redis_server.url, ws_max_sockets_per_user=1)
    users = await add_users(node_a)
    node_b = await make_hub(redis_url=redis_server.url, ws_max_sockets_per_user=1)
    await Client.connect(node_a.ws_url, users["doctor"]["token"])
    await node_a.stop()  # a rolling restart: the client reconnects to another process at once
    assert (await Client.connect(node_b.ws_url, users["doctor"]["token"])).user["role"] == "doctor"
