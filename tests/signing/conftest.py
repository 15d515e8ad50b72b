"""Fixtures of the signing tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.signing.world import World, build_world


@pytest.fixture
async def world(make_hub: Any) -> World:
    return await build_world(make_hub)


@pytest.fixture
def events(world: World) -> list[tuple[str, dict[str, Any]]]:
    """Every signing event the world's hub publishes, in order."""
    seen: list[tuple[str, dict[str, Any]]] = []
    names = ["signing." + n for n in ("created", "approved", "rejected", "cancelled", "renewed", "terminated",
                                      "expiring", "expired", "refused", "imported")]
    names += ["unable_to_sign." + n for n in ("requested", "approved", "rejected", "lifted")]
    world.hub.events.watch(names, lambda event: seen.append((event.name, event.payload)))
    return seen
