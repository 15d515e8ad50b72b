"""Scheduled jobs: each runs every ``interval_secs`` on exactly one hub process at a time, chosen by a lease
in MongoDB (so it works with or without Redis)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.ids import now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_secs: float
    run: Callable[[], Awaitable[Any]]


class JobRunner:
    def __init__(self, db: AsyncDatabase, node_id: str) -> None:
        self._leases = db.job_leases
        self._node = node_id
        self._tasks: list[asyncio.Task] = []

    def start(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"job-{job.name}"))

    async def _take_lease(self, job: Job) -> bool:
        """Claim the job for this interval; a lease expires so a dead process does not keep it."""
        moment = now()
        try:
            await self._leases.update_one(
                {"_id": job.name, "until": {"$lte": moment}},
                {"$set": {"node": self._node, "until": moment + timedelta(seconds=job.interval_secs * 0.9)}},
                upsert=True)
        except DuplicateKeyError:  # another process holds an unexpired lease
            return False
        return True

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
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
