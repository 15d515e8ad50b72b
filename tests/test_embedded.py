"""The embedded database process: started apart from the hub, and never outliving whoever started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support import ROOT

STARTER = """
import sys, time
from hub.embedded import start_embedded
db = start_embedded(sys.argv[1])
print(db.process.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` is running (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_the_database_stops_when_its_starter_is_killed_9(tmp_path: Path) -> None:
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path / "db")], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        database_pid = int(starter.stdout.readline())
        assert alive(database_pid)
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(10)
        deadline = time.monotonic() + 20
        while alive(database_pid):
            assert time.monotonic() < deadline, "the embedded database outlived the process that started it"
            time.sleep(0.1)
    finally:
        starter.kill()
        starter.wait()
        starter.stdout.close()
