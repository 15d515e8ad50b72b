"""Test plugin that subscribes to an event nobody declares: start-up must fail."""

from __future__ import annotations

from typing import Any

from hub import Subscriber, hookimpl


@hookimpl
def register_subscribers(hub: Any) -> list[Subscriber]:
    async def handle(event: Any) -> None:
        pass
    return [Subscriber("listen", ("nobody.happened",), handle)]
