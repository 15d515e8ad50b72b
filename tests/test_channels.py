"""Notification channels: a user with a live socket (on any process) gets a notice by ``ws`` only; anyone else
through the configured chain, a channel that skips or fails passing to the next; every attempt is recorded and
queryable; the chain runs off the request's path; an unknown channel fails start-up."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.channels import ChannelError
from hub.embedded import EmbeddedDatabase
from hub.errors import ConfigError
from tests.conftest import add_users
from tests.support import Client, RunningHub, api, eventually
from tests.test_found_locks import probe_db, start_probe_hub

PLUGINS = ["tests.plugins.consult_allow", "tests.plugins.channel_probe"]
CHAIN = {"notify_chain": ["first", "second"]}


async def channel_hub(make_hub, **extra) -> RunningHub:
    running = await make_hub(plugin_modules=PLUGINS, **{**CHAIN, **extra})
    await add_users(running)
    return running


def behaviour(**channels: str) -> dict:
    return {"channel_probe.behaviour": [f"{name}={what}" for name, what in channels.items()]}


async def notice_of(running: RunningHub, username: str, title: str) -> dict:
    user = running.users[username]
    return await eventually(lambda: running.hub.db.inbox.find_one({"user": user["_id"], "title": title}),
                            lambda doc: doc is not None)


async def walked(running: RunningHub, notice_id: str) -> list[tuple[str, str, str]]:
    """The notice's delivery records, once its chain is walked to its end: (channel, outcome, reason)."""
    db = running.hub.db

    async def records() -> list[dict]:
        return await db.notice_deliveries.find({"notice": notice_id}).sort("_id", 1).to_list()

    def finished(found: list[dict]) -> bool:
        return any(r["channel"] in ("ws", "inbox") or r["outcome"] in ("delivered", "accepted") for r in found)

    found = await eventually(records, finished, timeout=15)
    assert finished(found), found
    return [(r["channel"], r["outcome"], r["reason"]) for r in found]


async def notify(running: RunningHub, username: str, title: str, **kwargs) -> dict:
    await running.hub.notices.notify([running.users[username]["_id"]], kind="system", title=title, **kwargs)
    return await notice_of(running, username, title)


async def sends(running: RunningHub) -> list[dict]:
    return await running.hub.db.channel_probe_sends.find().sort("_id", 1).to_list()


async def test_an_online_user_gets_it_by_ws_only(make_hub) -> None:
    running = await channel_hub(make_hub)
    client = await Client.connect(running.ws_url, running.users["resident"]["token"])
    doc = await notify(running, "resident", "在线通知")
    frame = await client.expect("notice", title="在线通知")
    assert frame["inbox"] == doc["inbox"] and frame["kind"] == "system"
    assert await walked(running, doc["_id"]) == [("ws", "delivered", "")]
    assert await sends(running) == []


async def test_an_offline_user_gets_the_first_channel_and_sync_still_has_it(make_hub) -> None:
    running = await channel_hub(make_hub)
    doc = await notify(running, "resident", "离线通知")
    assert await walked(running, doc["_id"]) == [("first", "delivered", "")]
    [sent] = await sends(running)
    assert (sent["channel"], sent["notice"], sent["inbox"], sent["title"]) == ("first", doc["_id"], doc["inbox"],
                                                                               "离线通知")
    assert sent["has_password"] is False  # channels never see the password hash
    record = await running.hub.db.notice_deliveries.find_one({"notice": doc["_id"]})
    assert record["ref"] == "first-ref"
    client = await Client.connect(running.ws_url, running.users["resident"]["token"])
    frames, _ = await client.sync({}, inbox=0)
    assert [(f["type"], f["inbox"], f["title"]) for f in frames] == [("notice", doc["inbox"], "离线通知")]


async def test_one_notify_to_several_users_routes_each_on_its_own(make_hub) -> None:
    running = await channel_hub(make_hub)
    await Client.connect(running.ws_url, running.users["resident2"]["token"])
    ids = [running.users[u]["_id"] for u in ("resident", "resident2", "stranger")]
    assert await running.hub.notices.notify(ids, kind="mass", title="群发") == 3
    assert await running.hub.db.events.count_documents({"name": "notice.stored"}) == 1
    walks = {u: await walked(running, (await notice_of(running, u, "群发"))["_id"])
             for u in ("resident", "resident2", "stranger")}
    assert walks == {"resident": [("first", "delivered", "")], "resident2": [("ws", "delivered", "")],
                     "stranger": [("first", "delivered", "")]}
    assert sorted(s["user"] for s in await sends(running)) == sorted([ids[0], ids[2]])


async def test_a_skipping_channel_passes_to_the_next(make_hub) -> None:
    running = await channel_hub(make_hub, **behaviour(first="skip"))
    doc = await notify(running, "resident", "未授权")
    assert await walked(running, doc["_id"]) == [("first", "skipped", "用户未授权"), ("second", "delivered", "")]


async def test_an_accepting_channel_ends_the_chain(make_hub) -> None:
    running = await channel_hub(make_hub, **behaviour(first="accept"))
    doc = await notify(running, "resident", "已受理")
    assert await walked(running, doc["_id"]) == [("first", "accepted", "")]
    assert [s["channel"] for s in await sends(running)] == ["first"]


async def test_a_raising_channel_is_logged_by_name_and_the_next_tried(make_hub, caplog) -> None:
    running = await channel_hub(make_hub, **behaviour(first="raise"))
    with caplog.at_level(logging.ERROR, logger="hub.channels"):
        doc = await notify(running, "resident", "渠道异常")
        records = await walked(running, doc["_id"])
    assert records[0][:2] == ("first", "failed") and "raises on purpose" in records[0][2]
    assert records[1:] == [("second", "delivered", "")]
    assert any("channel first failed on notice" in r.getMessage() for r in caplog.records)


async def test_a_channel_that_fails_or_hangs_passes_to_the_next(make_hub) -> None:
    running = await channel_hub(make_hub, notify_chain=["first", "second", "third"], notify_send_timeout_secs=0.3,
                                **{"channel_probe.channels": ["first", "second", "third"],
                                   "channel_probe.hold_secs": 30.0}, **behaviour(first="fail", second="hold"))
    doc = await notify(running, "resident", "超时")
    assert await walked(running, doc["_id"]) == [("first", "failed", "gateway said no"),
                                                 ("second", "failed", "timed out after 0.3 s"),
                                                 ("third", "delivered", "")]


async def test_when_no_channel_takes_it_the_notice_waits_in_the_inbox(make_hub) -> None:
    running = await channel_hub(make_hub, **behaviour(first="skip", second="fail"))
    doc = await notify(running, "resident", "无人接收")
    assert await walked(running, doc["_id"]) == [("first", "skipped", "用户未授权"),
                                                 ("second", "failed", "gateway said no"),
                                                 ("inbox", "waiting", "no channel took it")]


async def test_the_chain_of_a_kind_and_of_a_call(make_hub) -> None:
    running = await channel_hub(make_hub, notify_chain_by_kind=["system=second", "alert="])
    by_kind = await notify(running, "resident", "按类型")
    assert await walked(running, by_kind["_id"]) == [("second", "delivered", "")]
    by_call = await notify(running, "resident", "按调用", chain=["first"])
    assert await walked(running, by_call["_id"]) == [("first", "delivered", "")]
    none = await notify(running, "resident", "不转发", chain=[])
    assert await walked(running, none["_id"]) == [("inbox", "waiting", "no fallback channel configured")]
    with pytest.raises(ChannelError, match="nope"):
        await running.hub.notices.notify([running.users["resident"]["_id"]], kind="system", title="未知渠道",
                                         chain=["first", "nope"])
    assert await running.hub.db.inbox.find_one({"title": "未知渠道"}) is None  # refused before anything is stored


async def test_an_unknown_channel_or_kind_in_the_configuration_fails_start_up(make_hub) -> None:
    with pytest.raises(ConfigError, match=r"notify_chain names unknown channel\(s\): \['nope'\].*first, second"):
        await make_hub(plugin_modules=PLUGINS, notify_chain=["first", "nope"])
    with pytest.raises(ConfigError, match=r"notify_chain_by_kind\[system\] names unknown channel"):
        await make_hub(plugin_modules=PLUGINS, notify_chain_by_kind=["system=first>wechat"])
    with pytest.raises(ConfigError, match="unknown notice kind"):
        await make_hub(plugin_modules=PLUGINS, notify_chain_by_kind=["nokind=first"])
    with pytest.raises(ConfigError, match="registered by both"):
        await make_hub(plugin_modules=PLUGINS, **{"channel_probe.channels": ["first", "first"]})


async def test_the_request_does_not_wait_for_the_channels(make_hub) -> None:
    running = await channel_hub(make_hub, **{"channel_probe.hold_secs": 30.0}, **behaviour(first="hold"))
    token = running.users["sysadmin"]["token"]
    status, data = await api(running.url, "POST", "/api/channel_probe/notify", token,
                             {"user": running.users["resident"]["_id"], "title": "不等待"})
    assert status == 200 and data == {"stored": 1}
    held = await eventually(lambda: sends(running), lambda found: len(found) == 1)
    assert [s["channel"] for s in held] == ["first"]  # the channel is holding now; the request has returned
    assert await running.hub.db.notice_deliveries.count_documents({}) == 0


async def test_presence_on_another_process_counts_with_redis(make_hub, redis_server) -> None:
    first = await channel_hub(make_hub, redis_url=redis_server.url)
    second = await make_hub(plugin_modules=PLUGINS, redis_url=redis_server.url, **CHAIN)
    resident = first.users["resident"]
    client = await Client.connect(second.ws_url, resident["token"])
    assert not first.hub.sessions.of_user(resident["_id"])  # connected to the other process only
    doc = await notify(first, "resident", "跨进程")
    await client.expect("notice", title="跨进程")
    assert await walked(first, doc["_id"]) == [("ws", "delivered", "")]
    assert await sends(first) == []
    await client.close()
    gone = await eventually(lambda: first.hub.present_users([resident["_id"]]), lambda found: not found)
    assert gone == set()
    later = await notify(first, "resident", "已离线")
    assert await walked(first, later["_id"]) == [("first", "delivered", "")]


async def test_the_ledger_is_listed_for_supervision_in_scope(make_hub) -> None:
    running = await channel_hub(make_hub, **behaviour(first="skip"))
    doc = await notify(running, "resident", "台账")
    await walked(running, doc["_id"])
    resident_id = running.users["resident"]["_id"]

    async def listed(username: str, query: str) -> tuple[int, dict]:
        return await api(running.url, "GET", f"/api/notices/deliveries?{query}", running.users[username]["token"])

    status, data = await listed("sysadmin", f"user={resident_id}")
    assert status == 200 and data["next_cursor"] is None
    assert [(i["notice"], i["channel"], i["outcome"]) for i in data["items"]] == [
        (doc["_id"], "second", "delivered"), (doc["_id"], "first", "skipped")]  # newest first
    status, data = await listed("supervisor", f"notice={doc['_id']}&channel=first")
    assert status == 200 and [i["reason"] for i in data["items"]] == ["用户未授权"]
    status, data = await listed("supervisor_other", f"user={resident_id}")
    assert status == 200 and data["items"] == []  # another county's resident
    status, data = await listed("resident", "")
    assert status == 403
    status, data = await listed("sysadmin", "outcome=lost")
    assert status == 400 and data["error"]["details"]["field"] == "outcome"


async def test_a_kill_9_mid_chain_resumes_after_the_last_recorded_attempt(make_hub, mongo: EmbeddedDatabase,
                                                                         db_name: str, tmp_path: Path) -> None:
    setup = await channel_hub(make_hub)  # the users, then out of the way: the processes below do the work
    users = setup.users
    await setup.stop()
    env = {"HUB_PLUGIN_MODULES": ",".join(PLUGINS), "HUB_NOTIFY_CHAIN": "first,second", "HUB_EVENTS_LEASE_SECS": "2"}
    held = start_probe_hub(mongo, db_name, tmp_path, "node1", **env, HUB_CHANNEL_PROBE_HOLD_SECS="60",
                           HUB_CHANNEL_PROBE_BEHAVIOUR="first=skip,second=hold")
    status, _ = await api(held.url, "POST", "/api/channel_probe/notify", users["sysadmin"]["token"],
                          {"user": users["resident"]["_id"], "title": "断电"})
    assert status == 200
    async with probe_db(held) as db:
        await eventually(lambda: db.channel_probe_sends.count_documents({"channel": "second"}), bool, timeout=30)
        held.kill()  # the second channel is holding: its outcome is not recorded
        restarted = start_probe_hub(mongo, db_name, tmp_path, "node1b", **env)
        try:
            doc = await db.inbox.find_one({"title": "断电"})
            records = await eventually(lambda: db.notice_deliveries.find({"notice": doc["_id"]}).sort("_id", 1)
                                       .to_list(), lambda found: len(found) == 2, timeout=60)
            assert [(r["channel"], r["outcome"], r["node"]) for r in records] == [
                ("first", "skipped", "node1"), ("second", "delivered", "node1b")]
            sent = await db.channel_probe_sends.find().sort("_id", 1).to_list()
            assert [(s["channel"], s["node"]) for s in sent] == [  # the skipped one is not asked again
                ("first", "node1"), ("second", "node1"), ("second", "node1b")]
        finally:
            await asyncio.to_thread(restarted.stop)
