"""Test plugin: a resident may not consult the doctors listed in their ``test_vetoed`` field (a veto), whatever
the other plugins say."""

from __future__ import annotations

from typing import Any

from hub import hookimpl


@hookimpl
def can_consult(hub: Any, resident: dict[str, Any], doctor: dict[str, Any]) -> bool | None:
    return False if doctor["_id"] in resident.get("test_vetoed", []) else None
