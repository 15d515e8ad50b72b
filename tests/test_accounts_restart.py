"""Crash and restart: a hub killed with -9 and started again at once (as systemd would) waits for its dead
predecessor's embedded database to let go of the data folder, says so in the log, and has every acked message."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.embedded import folder_holder, start_embedded
from tests.conftest import add_users
from tests.support import SECRET, Client, HubProcess, hub_overrides, messages_of, start_hub
from tests.test_embedded import alive
from tests.test_ws import open_consultation

HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(120)
"""


async def seed_folder(folder: Path) -> tuple[dict, str]:
    """Users and a consultation in a database kept in ``folder``, written by a hub that is then stopped."""
    db = start_embedded(folder)
    try:
        setup = await start_hub(hub_overrides(db.uri, "jthy"))
        users = await add_users(setup)
        setup.conv = await open_consultation(setup)
        await setup.stop()
    finally:
        db.stop()
    return users, setup.conv


def end_processes(pids: set[int]) -> None:
    """Leave nothing behind: any database still there is killed (woken first, had it been stopped)."""
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)


async def log_says(path: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"the log never said {text!r}: {path.read_text()[-2000:]}"
        await asyncio.sleep(0.05)


async def finish(node: HubProcess, users: dict, conv: str, ack: dict, text: str, resident: Client,
                 databases: set[int]) -> None:
    """After the restart: the doctor syncs exactly the acked message, the hub stops cleanly, no database is left."""
    databases.add(folder_holder(Path(node.env["HUB_EMBEDDED_DB_PATH"])) or 0)
    doctor = await Client.connect(node.ws_url, users["doctor"]["token"])
    frames, _ = await doctor.sync({conv: 0})
    assert [(m["seq"], m["text"]) for m in messages_of(frames, conv)] == [(ack["seq"], text)]
    await doctor.close()
    await resident.close()
    assert await asyncio.to_thread(node.stop) == 0
    assert [pid for pid in databases if alive(pid)] == []


def end_node(node: HubProcess, databases: set[int]) -> None:
    if node.process is not None and node.process.poll() is None:
        node.process.kill()
        node.process.wait()
    end_processes(databases)


def crashy_node(folder: Path, log_path: Path) -> HubProcess:
    return HubProcess({"HUB_MONGO_URI": "", "HUB_EMBEDDED_DB_PATH": str(folder), "HUB_MONGO_DB": "jthy",
                       "HUB_SECRET_KEY": SECRET, "HUB_PLUGINS": "signing=false", "HUB_NODE_ID": "crashy",
                       "HUB_PLUGIN_MODULES": "tests.plugins.consult_allow", "HUB_STRICT_PLUGINS": "true",
                       "HUB_LOG_LEVEL": "WARNING"}, log_path)


async def test_a_restart_within_a_second_of_kill_9_comes_up_with_the_acked_message(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    users, conv = await seed_folder(folder)
    node = crashy_node(folder, tmp_path / "hub.log")
    databases: set[int] = set()
    try:
        node.start()
        databases.add(folder_holder(folder) or 0)
        resident = await Client.connect(node.ws_url, users["resident"]["token"])
        ack = await resident.say(conv, "今天血糖 6.1")
        assert ack["type"] == "ack"
        node.kill()
        killed_at = time.monotonic()
        restart = asyncio.create_task(asyncio.to_thread(node.start))
        await asyncio.sleep(0)
        assert time.monotonic() - killed_at < 1.0  # started again at once, as systemd would
        await restart
        await finish(node, users, conv, ack, "今天血糖 6.1", resident, databases)
    finally:
        end_node(node, databases)


async def test_a_restart_right_after_kill_9_waits_for_the_folder_and_keeps_the_acked_message(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    users, conv = await seed_folder(folder)
    node = crashy_node(folder, tmp_path / "hub.log")
    databases: set[int] = set()
    try:
        node.start()
        first_db = folder_holder(folder)
        assert first_db is not None
        databases.add(first_db)
        resident = await Client.connect(node.ws_url, users["resident"]["token"])
        ack = await resident.say(conv, "血压 135/85，需要复诊吗")
        assert ack["type"] == "ack"
        node.kill()
        killed_at = time.monotonic()
        # The dead hub's database goes with it (SIGKILL on its parent's death): the folder is free at once.
        while folder_holder(folder) is not None:
            assert time.monotonic() - killed_at < 5, "the dead hub's database still holds the folder"
            await asyncio.sleep(0.02)
        assert not alive(first_db)
        # A server still closing on the folder (an operator's, or one stopped gracefully a moment ago) holds it
        # for seconds: the restart waits for it and says so, rather than giving up.
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder / "WiredTiger.lock")],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            restart = asyncio.create_task(asyncio.to_thread(node.start))
            await log_says(node.log_path, f"is still held by process {holder.pid}")
            assert time.monotonic() - killed_at < 30  # the new hub is waiting, not gone
            assert not restart.done()
        finally:
            holder.kill()
            holder.wait()
            holder.stdout.close()  # type: ignore[union-attr]
        await restart
        await log_says(node.log_path, "released after")
        await finish(node, users, conv, ack, "血压 135/85，需要复诊吗", resident, databases)
    finally:
        end_node(node, databases)


def test_a_folder_held_past_the_bound_fails_with_the_holder_named(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder / "WiredTiger.lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert folder_holder(folder) == holder.pid
        with pytest.raises(RuntimeError, match=f"still held by process {holder.pid}"):
            start_embedded(folder, release_timeout=0.3)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert folder_holder(folder) is None
