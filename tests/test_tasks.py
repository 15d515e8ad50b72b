"""Stopping background tasks (hub.tasks): a task that swallows one cancellation still ends."""

from __future__ import annotations

import asyncio

from hub.tasks import cancel_and_wait


async def test_a_task_that_swallowed_its_cancellation_is_cancelled_again_and_ends() -> None:
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:  # as pymongo's async I/O can, while it awaits the server
            swallowed.set()
        await asyncio.sleep(3600)  # a job's sleep until its next run

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait([task, None]), 30)
    assert swallowed.is_set()
    assert task.cancelled()


async def test_done_and_absent_tasks_are_left_alone() -> None:
    async def quick() -> int:
        return 1

    done = asyncio.create_task(quick())
    await done
    await cancel_and_wait([done, None])
    assert done.result() == 1
