"""The embedded database: a SecantusDB server (MongoDB wire protocol) run as its own process.

SecantusDB is GPL-2.0 and is never imported into the hub; it is started as a separate program. It runs with
``--sync-on-commit`` because without it acknowledged writes were lost when its process was killed with -9.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

START_TIMEOUT_SECS = 30.0
STOP_TIMEOUT_SECS = 15.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_binary() -> str:
    """The ``secantusd-py`` beside this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / "secantusd-py"
    found = str(beside) if beside.exists() else shutil.which("secantusd-py")
    if not found:
        raise RuntimeError("secantusd-py not found: install the 'embedded' extra (pip install -e '.[embedded]')")
    return found


@dataclass
class EmbeddedDatabase:
    """A running SecantusDB process."""

    process: subprocess.Popen
    port: int
    path: Path

    @property
    def uri(self) -> str:
        # retryWrites=false: with retryable writes on, this server's inserts slowed ~10x after ~10k writes.
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true&retryWrites=false"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.process.kill()
        self.process.wait()


def _stop_with(parent: int) -> Callable[[], None]:
    """For the child, before it runs the server: SIGTERM when ``parent`` dies, even by kill -9 (Linux's
    PR_SET_PDEATHSIG), so a crashed hub or test run leaves no database behind holding its port and folder."""

    def arrange() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return arrange


def start_embedded(path: Path | str, port: int = 0, log_file: Path | None = None) -> EmbeddedDatabase:
    """Start SecantusDB on 127.0.0.1 with its data in ``path`` (kept across restarts); wait until it answers."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    out = open(log_file or folder / "secantusd.log", "ab")  # noqa: SIM115 - the child process owns it
    process = subprocess.Popen(
        [server_binary(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(folder),
         "--sync-on-commit", "--log-level", "WARNING"],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=folder,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
        preexec_fn=_stop_with(os.getpid()) if sys.platform == "linux" else None)
    out.close()
    db = EmbeddedDatabase(process, port, folder)
    deadline = time.monotonic() + START_TIMEOUT_SECS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded database exited with {process.returncode}; see {folder}/secantusd.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                log.info("embedded database on port %d, data in %s", port, folder)
                return db
        except OSError:
            time.sleep(0.1)
    db.stop()
    raise RuntimeError(f"embedded database did not open port {port} within {START_TIMEOUT_SECS:.0f} s")
