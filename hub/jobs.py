"""Scheduled jobs: each runs every ``interval_secs`` on exactly one hub process at a time, chosen by a lease
of ``hub.locks`` (Redis when configured, MongoDB otherwise)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hub.locks import Locks
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_secs: float
    run: Callable[[], Awaitable[Any]]


class JobRunner:
    def __init__(self, locks: Locks) -> None:
        self._locks = locks
        self._tasks: list[asyncio.Task] = []

    def start(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"job-{job.name}"))

    async def _take_lease(self, job: Job) -> bool:
        """Claim the job for this interval. The lease is never released: it expiring is what lets the next run
        (on any process) start, and a dead process does not keep it."""
        return await self._locks.acquire(f"job:{job.name}", job.interval_secs * 0.9) is not None

    async def _loop(self, job: Job) -> None:
        while True:
            try:
                if await self._take_lease(job):
                    await job.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job %s failed", job.name)
            await asyncio.sleep(job.interval_secs)

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
