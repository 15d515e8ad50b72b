"""Test plugin: declares a notice kind and notes in its plugin state that it was shut down (sync hook)."""

from __future__ import annotations

from typing import Any

from hub import hookimpl


@hookimpl
def register_notice_kinds() -> list[str]:
    return ["witness"]


@hookimpl
def hub_startup(hub: Any) -> None:
    hub.plugin_state["hooks_witness"] = {"started": True}


@hookimpl
def hub_shutdown(hub: Any) -> None:
    hub.plugin_state["hooks_witness"]["shut_down"] = True
