"""mypy passes on the core and every plugin in plugins/ (``[mypy]`` in setup.cfg names the files), so what
plugins import from ``hub`` stays typed and the plugins use it as typed. The cache in .mypy_cache keeps a
repeat run to a few seconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_passes_on_the_core_and_the_plugins() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "setup.cfg"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hook_specifications_take_the_typed_hub() -> None:
    import inspect

    from hub import hookspecs

    # Annotations are strings (``from __future__ import annotations``); mypy resolves ``Hub`` to hub.app.Hub.
    for name, spec in inspect.getmembers(hookspecs, inspect.isfunction):
        if "hub" in inspect.signature(spec).parameters:
            assert spec.__annotations__["hub"] == "Hub", name
