"""Test plugin: a setting with bounds."""

from __future__ import annotations

from hub import Setting, hookimpl


@hookimpl
def register_settings() -> list[Setting]:
    return [Setting("bounded.batch", int, 50, "Rows per batch.", least=1, most=100),
            Setting("bounded.mode", str, "fast", "How to run.", choices=("fast", "careful"))]
