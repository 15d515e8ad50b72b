"""Test plugin: fails while declaring its notice kinds (a start-up fan-out hook)."""

from __future__ import annotations

from hub import hookimpl


@hookimpl
def register_notice_kinds() -> list[str]:
    raise RuntimeError("declare_failing fails in register_notice_kinds on purpose")
