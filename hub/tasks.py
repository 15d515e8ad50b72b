"""Stopping background tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

RECANCEL_SECS = 0.1


async def cancel_and_wait(tasks: Iterable[asyncio.Task | None]) -> None:
    """Cancel the tasks and wait until each has ended. A cancellation that arrives while pymongo's async I/O awaits
    the server can be swallowed there, and the task then runs on to its next ``sleep``; so the cancel is repeated
    until the task is done (a single ``cancel()`` then ``gather`` hung a shutdown for a job's whole interval)."""
    pending = {task for task in tasks if task is not None and not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_SECS)
