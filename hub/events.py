"""Domain events inside one process: plugins subscribe through ``register_subscribers`` and business code
calls ``emit``. A failing subscriber is logged and the others still run."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Subscriber = Callable[[dict[str, Any]], Awaitable[None] | None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}

    def subscribe(self, name: str, callback: Subscriber) -> None:
        self._subscribers.setdefault(name, []).append(callback)

    async def emit(self, name: str, payload: dict[str, Any]) -> None:
        for callback in self._subscribers.get(name, ()):
            try:
                result = callback(payload)
                if result is not None:
                    await result
            except Exception:
                log.exception("subscriber %r of event %s failed", callback, name)
