"""Follow-up planning benchmark: the pure planner (``plugins/services/followups.plan_visits``) over many residents.

    .venv/bin/python -m bench.services_plan                     # 100,000 residents
    .venv/bin/python -m bench.services_plan --residents 10000

Each resident is in one or two populations of a realistic mix (高血压 with a year of quarterly follow-ups, some of
them 不满意; 糖尿病; 老年人 ≥ 65; a pregnancy; a child with its checks so far), planned as of one day. Targets
(issue 10): 100,000 residents under 60 s, re-planning one resident under 20 ms. The stored path (reading the
records, writing the plan) is measured by the tests' timings, not here.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, timedelta

from plugins.services.followups import (
    CHILD,
    DIABETES,
    ELDERLY,
    HYPERTENSION,
    PREGNANCY,
    Dates,
    FollowUp,
    plan_visits,
)

TODAY = date(2026, 12, 3)


def resident(n: int, rng: random.Random) -> tuple[list[str], Dates, list[FollowUp]]:
    kind = n % 5
    since = TODAY - timedelta(days=rng.randint(30, 900))
    if kind == 0:  # hypertension, elderly
        records = [FollowUp(f"{n}-{i}", since + timedelta(days=90 * i + rng.randint(0, 20)), HYPERTENSION,
                            form={"sbp": rng.choice((128, 135, 150)), "dbp": 85}) for i in range(since.year % 3 + 4)]
        return [HYPERTENSION, ELDERLY], Dates(since=since, birth=date(1950, 3, 1)), records
    if kind == 1:
        records = [FollowUp(f"{n}-{i}", since + timedelta(days=90 * i + 5), DIABETES,
                            form={"fasting_glucose": rng.choice((6.2, 7.4))}) for i in range(4)]
        return [DIABETES], Dates(since=since, birth=date(1968, 7, 9)), records
    if kind == 2:
        return [ELDERLY], Dates(since=since, birth=date(1955, 1, 31)), [FollowUp(f"{n}-e", since, ELDERLY)]
    if kind == 3:
        edd = TODAY + timedelta(days=rng.randint(-30, 250))
        records = [FollowUp(f"{n}-p", edd - timedelta(days=200), PREGNANCY, form={"abnormal": n % 7 == 0})]
        return [PREGNANCY], Dates(since=since, expected_delivery=edd), records
    birth = TODAY - timedelta(days=rng.randint(0, 6 * 365))
    records = [FollowUp(f"{n}-c{i}", birth + timedelta(days=30 * i * 3), CHILD) for i in range(3)]
    return [CHILD], Dates(since=birth, birth=birth), records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(10)
    cases = [resident(n, rng) for n in range(args.residents)]
    times = []
    visits = 0
    start = time.perf_counter()
    for populations, dates, records in cases:
        began = time.perf_counter()
        visits += len(plan_visits(populations, dates, records, TODAY))
        times.append(time.perf_counter() - began)
    total = time.perf_counter() - start
    times.sort()
    print(f"residents {args.residents:,}  visits {visits:,}  total {total:.2f} s  "
          f"({args.residents / total:,.0f} residents/s)")
    print(f"per resident: median {statistics.median(times) * 1000:.3f} ms, "
          f"p99 {times[int(len(times) * 0.99)] * 1000:.3f} ms, max {times[-1] * 1000:.3f} ms")


if __name__ == "__main__":
    main()
