"""Test plugin: fails in hub_startup, which stops the start-up."""

from __future__ import annotations

from typing import Any

from hub import hookimpl


@hookimpl
async def hub_startup(hub: Any) -> None:
    raise RuntimeError("startup_failing fails in hub_startup on purpose")
