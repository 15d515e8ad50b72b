"""The embedded database: a SecantusDB server (MongoDB wire protocol) run as its own process.

SecantusDB is GPL-2.0 and is never imported into the hub; it is started as a separate program. It runs with
``--sync-on-commit`` because without it acknowledged writes were lost when its process was killed with -9.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import struct
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
# SecantusDB's storage engine (WiredTiger) holds a POSIX write lock on this file of its folder while it is open,
# and a second server on the folder exits with EBUSY. A server still closing (a hub stopped by a supervisor that
# restarts it at once, an operator's server on the folder) holds it for seconds, so a start waits for the lock to go.
FOLDER_LOCK_FILE = "WiredTiger.lock"
RELEASE_TIMEOUT_SECS = 60.0
RELEASE_POLL_SECS = 0.1
# Python acts on SIGTERM only in its main thread, and a SIGTERM taken by another of the server's threads can go
# unnoticed, leaving an orphan running. Past this time an orphaned server of the folder is asked again.
RESEND_TERM_SECS = 10.0
# struct flock of Linux on 64-bit machines: l_type, l_whence, (pad), l_start, l_len, l_pid, (pad).
FLOCK_LAYOUT = "hhxxxxqqixxxx"
PORT_POLL_SECS = 0.05
LOG_TAIL_CHARS = 3000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None, name: str = "server",
                  log_path: Path | None = None) -> None:
    """Return once something accepts connections on 127.0.0.1:``port``. RuntimeError, with the end of
    ``log_path`` when given, if ``process`` exits first or nothing listens within ``timeout`` seconds."""

    def tail() -> str:
        if log_path is None or not log_path.exists():
            return ""
        return f"; end of {log_path}:\n" + log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening on port {port}{tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(PORT_POLL_SECS)
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout:.0f} s{tail()}")


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
    """For the child, before it runs the server: SIGKILL when ``parent`` dies, even by kill -9 (Linux's
    PR_SET_PDEATHSIG), so a crashed hub or test run leaves no database behind holding its port and folder, and a
    restart finds the folder free at once. SIGKILL, not SIGTERM: a SIGTERM taken by one of the server's other
    threads went unnoticed and left orphans running for good; and with ``--sync-on-commit`` every acknowledged
    write is in WiredTiger's journal, so a killed server loses nothing (the suite's crash tests check it)."""

    def arrange() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return arrange


def folder_holder(folder: Path) -> int | None:
    """The process holding the database folder's lock (asked with F_GETLK, which takes no lock), or None."""
    try:
        fd = os.open(folder / FOLDER_LOCK_FILE, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        query = struct.pack(FLOCK_LAYOUT, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        kind, _, _, _, pid = struct.unpack(FLOCK_LAYOUT, fcntl.fcntl(fd, fcntl.F_GETLK, query))
    finally:
        os.close(fd)
    return None if kind == fcntl.F_UNLCK else pid


def _orphaned_server(pid: int, folder: Path) -> bool:
    """Whether ``pid`` is a SecantusDB server of this folder whose starter is gone (its parent is now init)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return parent == 1 and any(b"secantusd" in a for a in args[:2]) and os.fsencode(folder) in args


def wait_for_release(folder: Path, timeout: float = RELEASE_TIMEOUT_SECS) -> None:
    """Wait, at most ``timeout`` seconds, until no process holds the folder (a previous server, still shutting
    down after its hub died); say so in the log. Raises RuntimeError naming the holder when it does not let go."""
    holder = folder_holder(folder)
    if holder is None:
        return
    log.warning("embedded database folder %s is still held by process %d (a previous server shutting down?); "
                "waiting up to %.0f s for it to let go", folder, holder, timeout)
    started = asked = time.monotonic()
    while holder is not None:
        moment = time.monotonic()
        if moment - started > timeout:
            raise RuntimeError(f"embedded database folder {folder} is still held by process {holder} after "
                               f"{timeout:.0f} s; stop that process or use another embedded_db_path")
        if moment - asked > RESEND_TERM_SECS and _orphaned_server(holder, folder):
            log.warning("asking the orphaned database server %d again to stop (SIGTERM)", holder)
            os.kill(holder, signal.SIGTERM)
            asked = moment
        time.sleep(RELEASE_POLL_SECS)
        holder = folder_holder(folder)
    log.warning("embedded database folder %s released after %.1f s; starting the database",
                folder, time.monotonic() - started)


def start_embedded(path: Path | str, port: int = 0, log_file: Path | None = None,
                   release_timeout: float = RELEASE_TIMEOUT_SECS) -> EmbeddedDatabase:
    """Start SecantusDB on 127.0.0.1 with its data in ``path`` (kept across restarts); wait until it answers.
    A previous server still holding the folder is waited for, up to ``release_timeout`` seconds."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    wait_for_release(folder, release_timeout)
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
    try:
        wait_for_port(port, START_TIMEOUT_SECS, process, "embedded database", log_file or folder / "secantusd.log")
    except RuntimeError:
        db.stop()
        raise
    log.info("embedded database on port %d, data in %s", port, folder)
    return db
