"""Test plugin: requires the example_greeter plugin and notes, at start-up, whether the greeter's setting is there."""

from __future__ import annotations

from typing import Any

from hub import hookimpl

requires = ("example_greeter",)


@hookimpl
def hub_startup(hub: Any) -> None:
    hub.plugin_state["needs_greeter"] = {"greeting": hub.config["example_greeter.greeting"]}
