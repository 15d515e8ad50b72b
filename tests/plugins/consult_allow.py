"""Test plugin: a resident may consult the doctors listed in their ``test_doctors`` field."""

from __future__ import annotations

from typing import Any

from hub import hookimpl


@hookimpl
def can_consult(hub: Any, resident: dict[str, Any], doctor: dict[str, Any]) -> bool | None:
    return True if doctor["_id"] in resident.get("test_doctors", []) else None


@hookimpl
def consultable_doctors(hub: Any, resident: dict[str, Any]) -> list[str] | None:
    return resident.get("test_doctors")
