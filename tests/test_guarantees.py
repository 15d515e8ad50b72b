"""PROTOCOL guarantees 1–3 and 5 tried against separate hub processes: kill -9, two processes sharing MongoDB
and a real Redis, reconnects to another process, concurrent senders."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hub.embedded import EmbeddedDatabase
from tests.conftest import add_users
from tests.support import SECRET, Client, HubProcess, RedisServer, RunningHub, api, messages_of
from tests.test_ws import open_consultation


@pytest.fixture
async def cast(make_hub) -> RunningHub:
    """Users and a consultation, made through an in-process hub that the test then stops."""
    setup = await make_hub()
    await add_users(setup)
    setup.conv = await open_consultation(setup)
    await setup.stop()
    return setup


@pytest.fixture
async def spawn(mongo: EmbeddedDatabase, db_name: str, tmp_path: Path) -> AsyncIterator[Callable[..., HubProcess]]:
    """Start ``python -m hub`` processes on the test's database; all are stopped afterwards."""
    started: list[HubProcess] = []

    def factory(redis_url: str = "", **env: str) -> HubProcess:
        name = f"node{len(started) + 1}"
        process = HubProcess({
            "HUB_MONGO_URI": mongo.uri, "HUB_MONGO_DB": db_name, "HUB_SECRET_KEY": SECRET,
            "HUB_REDIS_URL": redis_url, "HUB_NODE_ID": name, "HUB_PLUGINS": "signing=false",
            "HUB_PLUGIN_MODULES": "tests.plugins.consult_allow", "HUB_STRICT_PLUGINS": "true",
            "HUB_LOG_LEVEL": "WARNING", "HUB_WS_RATE_PER_SEC": "1000", "HUB_WS_RATE_BURST": "1000", **env,
        }, tmp_path / f"{name}.log").start()
        started.append(process)
        return process

    yield factory
    # Stopped from threads: the event loop keeps running, so the test's open clients answer the hubs' closing
    # handshakes (a blocked loop made each hub wait out its close timeout, 10 s).
    await asyncio.gather(*(asyncio.to_thread(process.stop) for process in started
                           if process.process and process.process.poll() is None))


async def test_acked_messages_survive_kill_9_of_the_hub(cast: RunningHub, spawn) -> None:
    users, conv = cast.users, cast.conv
    node = spawn()
    resident = await Client.connect(node.ws_url, users["resident"]["token"])
    # Pipelined sends: many are in flight together, so they are grouped into shared writes.
    ids = [f"k{i}" for i in range(60)]
    for frame_id in ids:
        await resident.send({"type": "send", "id": frame_id, "conv": conv, "kind": "text", "text": f"血糖 {frame_id}"})
    acked: dict[str, int] = {}
    while len(acked) < 40:
        frame = await resident.expect("ack")
        acked[frame["id"]] = frame["seq"]
    node.kill()  # right after the 40th ack; later sends may or may not have been written
    node.start()
    doctor = await Client.connect(node.ws_url, users["doctor"]["token"])
    frames, _ = await doctor.sync({conv: 0})
    stored = {m["seq"]: m["text"] for m in messages_of(frames, conv)}
    assert list(stored) == list(range(1, len(stored) + 1))  # gap-free
    for frame_id, seq in acked.items():
        assert stored[seq] == f"血糖 {frame_id}"


async def test_two_processes_deliver_live_and_keep_one_gap_free_order(cast: RunningHub, spawn,
                                                                     redis_server: RedisServer) -> None:
    users, conv = cast.users, cast.conv
    node_a, node_b = spawn(redis_server.url), spawn(redis_server.url)
    resident = await Client.connect(node_a.ws_url, users["resident"]["token"])
    doctor = await Client.connect(node_b.ws_url, users["doctor"]["token"])
    per_side = 40

    async def burst(client: Client, label: str) -> list[dict]:
        for i in range(per_side):
            await client.send({"type": "send", "id": f"{label}{i}", "conv": conv, "kind": "text",
                               "text": f"{label} 第{i}条"})
        acks = []
        while len(acks) < per_side:
            acks.append(await client.expect("ack", timeout=20))
        return acks

    acks_r, acks_d = await asyncio.gather(burst(resident, "居民"), burst(doctor, "医生"))
    seqs = sorted(a["seq"] for a in acks_r + acks_d)
    assert seqs == list(range(1, 2 * per_side + 1))
    # Each side's own messages keep their sending order.
    assert [a["seq"] for a in acks_r] == sorted(a["seq"] for a in acks_r)
    # Live delivery across processes: the doctor on B sees every one of the resident's messages sent via A.
    live = {f["seq"]: f for f in messages_of(doctor.seen, conv)}
    deadline = time.monotonic() + 10
    while not {a["seq"] for a in acks_r} <= live.keys() and time.monotonic() < deadline:
        frame = await doctor.recv()
        if frame["type"] == "message":
            live[frame["seq"]] = frame
    assert {a["seq"] for a in acks_r} <= live.keys()
    # Everyone sees the same order: a fresh sync through either process returns identical messages.
    views = []
    for node in (node_a, node_b):
        fresh = await Client.connect(node.ws_url, users["resident"]["token"])
        frames, _ = await fresh.sync({conv: 0})
        views.append([(m["seq"], m["from"]["id"], m["text"]) for m in messages_of(frames, conv)])
    assert views[0] == views[1] and [v[0] for v in views[0]] == list(range(1, 2 * per_side + 1))


async def test_reconnect_to_another_process_resumes_without_loss(cast: RunningHub, spawn,
                                                                 redis_server: RedisServer) -> None:
    users, conv = cast.users, cast.conv
    node_a, node_b = spawn(redis_server.url), spawn(redis_server.url)
    doctor = await Client.connect(node_a.ws_url, users["doctor"]["token"])
    resident = await Client.connect(node_b.ws_url, users["resident"]["token"])
    await resident.say(conv, "第一条")
    first = await doctor.expect("message")
    await doctor.close()
    for text in ("第二条", "第三条"):
        await resident.say(conv, text)
    doctor = await Client.connect(node_b.ws_url, users["doctor"]["token"])
    frames, _ = await doctor.sync({conv: first["seq"]})
    assert [m["text"] for m in messages_of(frames, conv)] == ["第二条", "第三条"]


async def test_retry_through_another_process_stores_once(cast: RunningHub, spawn,
                                                         redis_server: RedisServer) -> None:
    users, conv = cast.users, cast.conv
    node_a, node_b = spawn(redis_server.url), spawn(redis_server.url)
    frame_id = uuid.uuid4().hex
    first = await (await Client.connect(node_a.ws_url, users["resident"]["token"])).say(conv, "重试", frame_id)
    again = await (await Client.connect(node_b.ws_url, users["resident"]["token"])).say(conv, "重试", frame_id)
    assert again == first


async def test_notices_reach_a_user_on_another_process(cast: RunningHub, spawn,
                                                       redis_server: RedisServer) -> None:
    users = cast.users
    node_a, node_b = spawn(redis_server.url), spawn(redis_server.url)
    supervisor = await Client.connect(node_b.ws_url, users["supervisor"]["token"])
    status, _word = await api(node_a.url, "POST", "/api/sensitive-words", users["sysadmin"]["token"],
                             {"word": "代开发票", "action": "alert", "category": "广告"})
    assert status == 201
    resident = await Client.connect(node_a.ws_url, users["resident"]["token"])
    ack = await resident.say(cast.conv, "可以代开发票吗")
    assert ack["screen"] == {"action": "alert"}
    notice = await supervisor.expect("notice", timeout=10)
    assert notice["kind"] == "alert" and "代开发票" in notice["body"]


async def test_healthz_checks_redis(cast: RunningHub, spawn, redis_server: RedisServer) -> None:
    node = spawn(redis_server.url)
    status, data = await api(node.url, "GET", "/healthz")
    assert status == 200 and data["broker"] is True


async def test_sigterm_finishes_and_closes_sockets_1001(cast: RunningHub, spawn) -> None:
    node = spawn()
    resident = await Client.connect(node.ws_url, cast.users["resident"]["token"])
    ack = await resident.say(cast.conv, "关机前最后一条")
    node.process.send_signal(__import__("signal").SIGTERM)
    assert await resident.closed_with(timeout=20) == 1001
    assert node.process.wait(30) == 0
    node.start()
    doctor = await Client.connect(node.ws_url, cast.users["doctor"]["token"])
    frames, _ = await doctor.sync({cast.conv: 0})
    assert [m["seq"] for m in messages_of(frames, cast.conv)] == [ack["seq"]]
