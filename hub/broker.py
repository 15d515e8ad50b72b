"""Fan-out between hub processes: one in-process broker, or Redis pub/sub when several processes run.

Every event crosses the broker as one JSON object on a named channel; each process delivers what it receives
to its own sockets. Business code never calls a broker directly: it calls ``Hub.publish``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as redis

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], Awaitable[None] | None]
CHANNEL_PREFIX = "hub:"
RECONNECT_DELAY_SECS = 1.0


class Broker(Protocol):
    async def start(self, handler: Handler) -> None: ...
    async def publish(self, channel: str, payload: dict[str, Any]) -> None: ...
    async def healthy(self) -> bool: ...
    async def close(self) -> None: ...


async def _dispatch(handler: Handler, channel: str, payload: dict[str, Any]) -> None:
    try:
        result = handler(channel, payload)
        if result is not None:
            await result
    except Exception:
        log.exception("broker handler failed on channel %s", channel)


class LocalBroker:
    """One process: publishing is handing the event to this process's handler."""

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        if self._handler is not None:
            await _dispatch(self._handler, channel, payload)

    async def healthy(self) -> bool:
        return True

    async def close(self) -> None:
        self._handler = None


class RedisBroker:
    """Several processes: every process subscribes to all hub channels of one Redis server."""

    def __init__(self, url: str) -> None:
        self._redis = redis.from_url(url, decode_responses=True)
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()

    @property
    def client(self) -> redis.Redis:
        """The Redis client, for other cross-process state kept in the same server (socket leases)."""
        return self._redis

    async def start(self, handler: Handler) -> None:
        await self._redis.ping()
        self._task = asyncio.create_task(self._listen(handler), name="redis-broker")
        await asyncio.wait_for(self._ready.wait(), 10)

    async def _listen(self, handler: Handler) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                self._ready.set()
                async for message in pubsub.listen():
                    if message["type"] != "pmessage":
                        continue
                    channel = message["channel"].removeprefix(CHANNEL_PREFIX)
                    await _dispatch(handler, channel, json.loads(message["data"]))
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:
                # Losing Redis loses live fan-out, not messages: clients catch up with sync.
                log.exception("redis subscription lost; resubscribing")
                await pubsub.aclose()
                await asyncio.sleep(RECONNECT_DELAY_SECS)

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        await self._redis.publish(CHANNEL_PREFIX + channel, json.dumps(payload, ensure_ascii=False))

    async def healthy(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._redis.aclose()


def make_broker(redis_url: str) -> Broker:
    return RedisBroker(redis_url) if redis_url else LocalBroker()
