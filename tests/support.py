"""Test helpers: real HTTP and WebSocket clients, the standard settings of a test hub, and what a test needs
that may be missing here (Chromium, Redis, the shared data). The servers themselves are started by
``hub.testing``, which the benchmarks use too; its names are re-exported here for the tests."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest
import tornado.httpclient
import websockets
from websockets.asyncio.client import ClientConnection

from hub.testing import (
    FAST_PASSWORD_HASH,
    ROOT,
    TEST_SECRET_KEY,
    HubProcess,
    RedisServer,
    RunningHub,
    Served,
    free_port,
    hub_settings,
    redis_binary,
    shared_data_dir,
    start_hub,
    start_redis,
    wait_for_port,
)

__all__ = ["FAST_HASH", "PASSWORD", "ROOT", "SECRET", "SHARED_DATA", "Client", "HubProcess", "RedisServer",
           "RunningHub", "Served", "api", "eventually", "free_port", "hub_overrides", "in_ci", "login",
           "messages_of", "redis_binary", "require_or_skip", "start_hub", "start_redis", "token_for", "wait_for",
           "wait_for_port"]

SECRET = TEST_SECRET_KEY
PASSWORD = "password123"
FAST_HASH = FAST_PASSWORD_HASH
SHARED_DATA = shared_data_dir()


def in_ci() -> bool:
    """Whether this run is CI's (``CI`` set to anything but empty, 0 or false, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_or_skip(what: str, available: bool, hint: str = "", *, otherwise: str | None = None) -> bool:
    """The one gate for a test that needs something this machine may lack (Chromium, Redis, the shared data).
    Available: True. Missing: under CI the test fails saying what is missing, since CI must provide it; elsewhere
    it is skipped — or, given ``otherwise`` (what the test falls back on), goes on and this returns False."""
    if available:
        return True
    message = f"{what} is missing" + (f" ({hint})" if hint else "")
    if in_ci():
        pytest.fail(f"{message}; CI must provide it, so this test fails instead of skipping", pytrace=False)
    if otherwise is None:
        pytest.skip(message)
    return False


def hub_overrides(mongo_uri: str, db_name: str, **extra: Any) -> dict[str, Any]:
    """The settings every test hub shares; tests add or replace through ``extra``."""
    return hub_settings(mongo_uri, db_name, **{"plugins": {"signing": False, "example_greeter": False},
                                               "plugin_modules": ["tests.plugins.consult_allow"], **extra})


def token_for(running: RunningHub, user: dict[str, Any]) -> str:
    """An access token for ``user``, signed by the hub itself: what a login would return, without the request
    (tests that are about logging in use ``login``)."""
    return running.hub.accounts.grant(user).access_token


async def api(base_url: str, method: str, path: str, token: str | None = None, body: Any = None,
              raw: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 60
              ) -> tuple[int, Any]:
    """One real HTTP request; returns the status and the decoded JSON body (``timeout`` only stops a hang)."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if payload is None and method in ("POST", "PUT", "PATCH"):
        payload = b""
    request = tornado.httpclient.HTTPRequest(base_url + path, method=method, headers=all_headers, body=payload,
                                             request_timeout=timeout)
    response = await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
    text = response.body.decode() if response.body else ""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = text
    return response.code, data


async def login(base_url: str, username: str, password: str = PASSWORD) -> str:
    status, data = await api(base_url, "POST", "/api/auth/token", body={"username": username, "password": password})
    assert status == 200, data
    return data["access_token"]


class Client:
    """A real WebSocket client speaking PROTOCOL.md."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.seen: list[dict[str, Any]] = []

    opened: list[Client] = []  # closed after each test by the ``close_clients`` fixture

    @classmethod
    async def connect(cls, ws_url: str, token: str | None, **kwargs: Any) -> Client:
        # close_timeout: closing a client whose hub was killed waited the library's default 10 s for an answer.
        conn = await websockets.connect(ws_url, max_size=None, open_timeout=20, close_timeout=2, **kwargs)
        client = cls(conn)
        cls.opened.append(client)
        if token is not None:
            await client.send({"type": "auth", "token": token})
            welcome = await client.expect("welcome")
            client.user = welcome["user"]
        return client

    async def send(self, frame: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(frame, ensure_ascii=False))

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
        self.seen.append(frame)
        return frame

    async def expect(self, *types: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next frame of one of these types (and matching fields), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - time.monotonic()))
            if frame["type"] in types and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def request(self, frame: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send a frame with an id and return the reply carrying that id (an ack, error, pong …)."""
        frame.setdefault("id", uuid.uuid4().hex)
        await self.send(frame)
        return await self.expect("ack", "error", "pong", "synced", "welcome", timeout=timeout, id=frame["id"])

    async def say(self, conv: str, text: str, frame_id: str | None = None) -> dict[str, Any]:
        return await self.request({"type": "send", "conv": conv, "kind": "text", "text": text,
                                   **({"id": frame_id} if frame_id else {})})

    async def sync(self, convs: dict[str, int], inbox: int = 0) -> tuple[list[dict], dict]:
        frame_id = uuid.uuid4().hex
        await self.send({"type": "sync", "id": frame_id, "convs": convs, "inbox": inbox})
        frames = []
        while True:
            frame = await self.recv()
            if frame["type"] == "synced" and frame.get("id") == frame_id:
                return frames, frame
            frames.append(frame)

    async def closed_with(self, timeout: float = 10.0) -> int:
        """Read until the hub closes the socket; return the close code."""
        try:
            while True:
                await asyncio.wait_for(self.conn.recv(), timeout)
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else 1006

    async def close(self) -> None:
        await self.conn.close()


async def eventually(probe: Callable[[], Awaitable[Any]], check: Callable[[Any], bool],
                     timeout: float = 20.0) -> Any:
    """Poll ``probe`` until ``check`` holds (conversation summaries are written a moment after the messages); the
    last value once ``timeout`` has passed, for the caller's assert to show. The deadline is generous on purpose:
    a loaded machine only makes a passing test slower, never a failing one."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if check(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


def messages_of(frames: Iterable[dict[str, Any]], conv: str) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == "message" and f["conv"] == conv]


async def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0, poll_secs: float = 0.02) -> None:
    """Poll ``condition`` (a function, or one returning an awaitable) until it is truthy; fail naming ``what``
    after ``timeout`` seconds. For waiting on a state, instead of sleeping and hoping it was reached."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
            value = await value
        if value:
            return
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        await asyncio.sleep(poll_secs)
