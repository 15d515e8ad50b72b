"""Fixtures of the services tests: the signing tests' county (``tests/signing/world.py``) with the services
plugin loaded, and helpers to sign residents and record follow-ups over real HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from tests.signing.world import World, build_world, id_number

SERVICE_EVENTS = ("service.recorded", "service.corrected", "followup.planned", "followup.done",
                  "service.requested", "service.request_changed")


async def build_services_world(make_hub: Callable[..., Awaitable[Any]], **settings: Any) -> World:
    async def with_services(**extra: Any) -> Any:
        return await make_hub(**{**extra, "plugin_modules": ["plugins.services"]})
    return await build_world(with_services, **settings)


@pytest.fixture
async def world(make_hub: Any) -> World:
    return await build_services_world(make_hub)


@pytest.fixture
def seen(world: World) -> list[tuple[str, dict[str, Any]]]:
    """Every services event the world's hub publishes, in order."""
    found: list[tuple[str, dict[str, Any]]] = []
    world.hub.events.watch(SERVICE_EVENTS, lambda event: found.append((event.name, event.payload)))
    return found


async def signed_resident(world: World, doctor: str = "doctor_a1", *, born: date = date(1970, 5, 6),
                          populations: tuple[str, ...] = ("高血压",), account: str | None = None,
                          **fields: Any) -> dict[str, Any]:
    """A resident entered by ``doctor`` and signed with the doctor's team (the standard package)."""
    resident = await world.resident(doctor, id_number=id_number(born), key_populations=list(populations), **fields)
    if account is not None:
        await world.hub.db.residents.update_one({"_id": resident["id"]},
                                                {"$set": {"account_id": world.id(account), "relation": "本人"}})
    status, signing = await world.sign(doctor, resident["id"])
    assert status == 201, signing
    return resident


def hypertension(at: str, sbp: int, dbp: int, resident_id: str, **form: Any) -> dict[str, Any]:
    return {"resident_id": resident_id, "type": "定期随访", "population": "高血压", "at": at, "place": "家中",
            "content": "血压随访", "item": "慢性病随访", "followup": {"sbp": sbp, "dbp": dbp, **form}}
