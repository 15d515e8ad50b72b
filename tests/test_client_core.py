"""The web client core (``static/core/``) under node, against a real hub started here: the node tests in
``tests/client/*.test.mjs`` get the hub's URLs, minted tokens and an open consultation through the environment.
Also: the close-code table of ``static/core/protocol.js`` covers every close code the hub uses."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from pathlib import Path

import pytest

import handlers.ws
import hub.errors
import hub.sessions
from tests.conftest import add_users
from tests.support import api, require_or_skip

ROOT = Path(__file__).resolve().parent.parent
CLIENT_TESTS = ROOT / "tests" / "client"
PROTOCOL_JS = ROOT / "static" / "core" / "protocol.js"
NODE_RUN_SECS = 240
HEARTBEAT_SECS = 1  # liveness is two heartbeats: a silent drop must show within seconds here
RECALL_SECS = 77    # not the default: the client must take it from welcome


def server_close_codes() -> dict[int, str]:
    """Every close code the hub can send: the named ``WS_<code>_*`` constants and the errors' ``close_code``."""
    codes: dict[int, str] = {}
    for module in (handlers.ws, hub.sessions):
        for name in dir(module):
            found = re.fullmatch(r"WS_(\d{4})_(\w+)", name)
            if found:
                assert getattr(module, name) == int(found.group(1)), name
                codes[int(found.group(1))] = found.group(2).lower()
    for name in dir(hub.errors):
        error = getattr(hub.errors, name)
        if isinstance(error, type) and issubclass(error, hub.errors.HubError) and error.close_code:
            codes.setdefault(error.close_code, error.code)
    # PROTOCOL.md's list, which also names what Tornado sends itself (1009 for a frame over the limit)
    protocol = (ROOT.parent / "shared" / "PROTOCOL.md")
    if protocol.exists():
        line = next(x for x in protocol.read_text().splitlines() if x.startswith("Close codes:"))
        for code in re.findall(r"\b(\d{4})\b", line):
            codes.setdefault(int(code), "protocol")
    return codes


def client_close_codes() -> dict[int, bool]:
    """protocol.js's table: code → reconnect."""
    text = PROTOCOL_JS.read_text()
    return {int(code): reconnect == "true"
            for code, reconnect in re.findall(r"^\s*(\d{4}): Object\.freeze\(\{.*reconnect: (true|false)", text, re.M)}


def test_close_code_table_covers_every_server_code() -> None:
    server = server_close_codes()
    client = client_close_codes()
    assert {1001, 4001, 4008} <= server.keys()
    missing = sorted(server.keys() - client.keys())
    assert not missing, f"close codes the hub sends but protocol.js does not know: {missing}"
    assert client[4001] is False  # unauthorized: a new login, not a reconnect loop
    assert client[1001] is True   # shutting down: reconnect to any node
    assert client[4008] is True   # slow consumer: catch up with sync


@pytest.fixture
def node() -> str:
    binary = shutil.which("node")
    require_or_skip("node", binary is not None, "apt-get install nodejs")
    return binary or "node"


async def test_client_core_under_node(make_hub, node: str) -> None:
    running = await make_hub(ws_heartbeat_secs=HEARTBEAT_SECS, recall_window_secs=RECALL_SECS,
                             ws_max_sockets_per_user=50, ws_rate_per_sec=200.0, ws_rate_burst=500)
    users = await add_users(running)
    status, conv = await api(running.url, "POST", "/api/consultations", users["resident"]["token"],
                             {"doctor_id": users["doctor"]["_id"]})
    assert status in (200, 201), conv
    env = {**os.environ,
           "HUB_TEST_URL": running.url,
           "HUB_TEST_WS_URL": running.ws_url,
           "HUB_TEST_PORT": str(running.port),
           "HUB_TEST_CONV": conv["id"],
           "HUB_TEST_TOKENS": json.dumps({name: user["token"] for name, user in users.items()}),
           "HUB_TEST_USERS": json.dumps({name: str(user["_id"]) for name, user in users.items()}),
           "HUB_TEST_HEARTBEAT_SECS": str(HEARTBEAT_SECS),
           "HUB_TEST_RECALL_SECS": str(RECALL_SECS),
           "HUB_TEST_CLOSE_CODES": json.dumps(sorted(server_close_codes()))}
    files = sorted(str(p) for p in CLIENT_TESTS.glob("*.test.mjs"))
    assert files, "no node tests found"
    process = await asyncio.create_subprocess_exec(
        node, "--experimental-websocket", "--test", "--test-reporter=spec", *files, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), NODE_RUN_SECS)
    except TimeoutError:
        process.kill()
        out, _ = await process.communicate()
        raise AssertionError("node tests did not finish:\n" + out.decode(errors="replace")) from None
    report = out.decode(errors="replace")
    assert process.returncode == 0, "node tests failed:\n" + report
    print(report)
