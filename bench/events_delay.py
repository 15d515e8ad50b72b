"""Durable events: the cost of ``hub.events.emit`` on the emitting path and the delay from its return to the
subscriber's call. One in-process hub (``hub.testing.start_hub``) with the ``tests.plugins.found_probe``
subscriber, a fresh embedded SecantusDB on disk, optionally a Redis (``--redis``: the wake-up then goes through
pub/sub).

    .venv/bin/python -m bench.events_delay [--events 300] [--gap-ms 10] [--redis]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from hub.ids import now
from hub.testing import hub_settings, scratch_database, start_hub, start_redis


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run(events: int, gap_ms: float, redis: bool) -> None:
    with scratch_database(in_memory=False) as db:
        await measure(db.uri, events, gap_ms, redis)


async def measure(mongo_uri: str, events: int, gap_ms: float, redis: bool) -> None:
    server = start_redis() if redis else None
    try:
        settings = hub_settings(mongo_uri, "bench_events", plugins={"signing": False, "example_greeter": False},
                                plugin_modules=["tests.plugins.found_probe"], redis_url=server.url if server else "")
        running = await start_hub(settings)
        try:
            emits, returned = [], {}
            for n in range(events):
                start = time.perf_counter()
                event = await running.hub.events.emit("found_probe.poked", {"n": n})
                emits.append((time.perf_counter() - start) * 1000)
                returned[event.id] = now()
                await asyncio.sleep(gap_ms / 1000)
            deliveries = running.hub.db.found_probe_deliveries
            while await deliveries.count_documents({}) < events:
                await asyncio.sleep(0.1)
            delays = [(d["delivered_at"] - returned[d["_id"]]).total_seconds() * 1000
                      async for d in deliveries.find()]
        finally:
            await running.stop()
    finally:
        if server:
            server.stop()
    print(f"{events} events, one every {gap_ms} ms, broker {'redis' if redis else 'in-process'}")
    print(f"emit (durable write):  p50 {statistics.median(emits):.2f} ms  p99 {pct(emits, 99):.2f} ms")
    print(f"emit return → subscriber effect: p50 {statistics.median(delays):.2f} ms  p99 {pct(delays, 99):.2f} ms"
          f"  max {max(delays):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--gap-ms", type=float, default=10.0)
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.gap_ms, args.redis))


if __name__ == "__main__":
    main()
