"""Test plugin: fails in every fan-out and shutdown hook, to show that the other plugins still run."""

from __future__ import annotations

from typing import Any

from hub import hookimpl


@hookimpl
async def can_consult(hub: Any, resident: dict[str, Any], doctor: dict[str, Any]) -> bool | None:
    raise RuntimeError("hooks_failing fails in can_consult on purpose")


@hookimpl
def consultable_doctors(hub: Any, resident: dict[str, Any]) -> list[str] | None:
    raise RuntimeError("hooks_failing fails in consultable_doctors on purpose")


@hookimpl
async def hub_shutdown(hub: Any) -> None:
    raise RuntimeError("hooks_failing fails in hub_shutdown on purpose")
