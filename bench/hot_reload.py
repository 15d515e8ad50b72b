"""How fast a sensitive-word change reaches another hub process, with the whole lexicon loaded.

    python -m bench.hot_reload [--changes 20] [--hogs 2] [--lines N]

Starts SecantusDB, a Redis server and two hub processes (A and B) sharing them, imports the whole
Sensitive-lexicon (``$HUB_SHARED_DATA``, default ``../shared/data``) through A, then adds words one by one
through A's API and times, from just before each request, until B's ``/api/sensitive-words/status`` reports the
new version (polled every 10 ms). It does this on a quiet machine, then with ``--hogs`` busy-looping processes
taking the CPU. The baseline, in the same run and conditions, is what every change cost before: a full build
of the lexicon on B, which B performs anyway a few seconds after the last change (its ``build_ms``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.hub import Children, http_json
from hub.testing import HubProcess, shared_data_dir, start_redis

PASSWORD = "bench-password-1"
HOG = "while True: pass"


def lexicon_lines() -> list[str]:
    folder = shared_data_dir() / "sensitive-lexicon" / "Vocabulary"
    if not folder.is_dir():
        raise SystemExit(f"lexicon not found at {folder} (set HUB_SHARED_DATA to the shared data folder)")
    from hub.screening import normalise_word

    lines = []
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text("utf-8").splitlines():
            word = line.strip()
            if normalise_word(word) and "," not in word and "\t" not in word and len(word) <= 50:
                lines.append(f"{word}\t{path.stem}")
    return lines


async def post_text(url: str, token: str, body: bytes) -> dict[str, Any]:
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    request = HTTPRequest(url, "POST", headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
                          body=body, request_timeout=600)
    response = await AsyncHTTPClient().fetch(request)
    return json.loads(response.body)


async def status(base: str, token: str) -> dict[str, Any]:
    code, data = await http_json(base + "/api/sensitive-words/status", "GET", token=token)
    if code != 200:
        raise SystemExit(f"status of {base} failed: {code} {data}")
    return data


async def settled(base: str, token: str, version: int, timeout: float = 120) -> dict[str, Any]:
    """Wait until the node screens with ``version`` from a full build (no changes carried)."""
    deadline = time.monotonic() + timeout
    while True:
        state = await status(base, token)
        if state["version"] >= version and state["changes"] == 0:
            return state
        if time.monotonic() > deadline:
            raise SystemExit(f"{base} did not settle on version {version}: {state}")
        await asyncio.sleep(0.1)


async def changes_reach_b(a: str, b: str, token: str, count: int, tag: str) -> list[float]:
    """Add ``count`` words through A; the milliseconds until B reports each new version."""
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        code, word = await http_json(a + "/api/sensitive-words", "POST",
                                     {"word": f"热更新{tag}{i:03d}号", "action": "block", "category": "基准"}, token)
        if code != 201:
            raise SystemExit(f"adding a word failed: {code} {word}")
        while (await status(b, token))["version"] < word["version"]:
            if time.perf_counter() - started > 30:
                raise SystemExit("B did not see the change within 30 s")
            await asyncio.sleep(0.01)
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.2)
    return latencies


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    return (f"p50 {statistics.median(ordered):6.0f} ms  max {ordered[-1]:6.0f} ms  "
            f"(n={len(ordered)}, within 1 s: {sum(x < 1000 for x in ordered)}/{len(ordered)})")


async def run(opts: argparse.Namespace, children: Children) -> None:
    from hub import store
    from hub.accounts import Accounts, no_announce
    from hub.audit import AuditLog

    db = children.embedded("db")
    redis = children.adopt("redis", start_redis(children.folder / "redis.log"))
    secret = secrets.token_urlsafe(36)
    client = store.connect(db.uri)
    database = store.database(client, "bench_reload")
    accounts = Accounts(database, secret, 6 * 3600, time_cost=1, memory_kib=1024, max_failures=5,
                        lockout_secs=900, audit=AuditLog(database), announce=no_announce)
    await accounts.create_user(username="bench_supervisor", password=PASSWORD, role="supervisor", name="督导",
                               region="330522000000")
    await client.close()
    bases = []
    for node in ("a", "b"):
        env = {"HUB_MONGO_URI": db.uri, "HUB_MONGO_DB": "bench_reload", "HUB_SECRET_KEY": secret,
               "HUB_REDIS_URL": redis.url, "HUB_NODE_ID": f"bench-{node}", "HUB_LOG_LEVEL": "WARNING",
               "HUB_PLUGINS": "signing=false"}
        process = HubProcess(env, children.folder / f"hub-{node}.log", new_session=True)
        bases.append(children.adopt(f"hub-{node}", process.start(90)).url)
    a, b = bases
    code, data = await http_json(a + "/api/auth/token", "POST", {"username": "bench_supervisor",
                                                                 "password": PASSWORD})
    if code != 200:
        raise SystemExit(f"login failed: {code} {data}")
    token = data["access_token"]
    lines = lexicon_lines()[:opts.lines or None]
    started = time.perf_counter()
    imported = await post_text(a + "/api/sensitive-words/import?action=block", token, "\n".join(lines).encode())
    answered = time.perf_counter()
    print(f"import of {len(lines)} lines through A: {answered - started:.1f} s "
          f"({imported['created']} words created)")
    while (await status(b, token))["version"] < imported["version"]:
        await asyncio.sleep(0.01)
    print(f"  B screens with the imported words {(time.perf_counter() - answered) * 1000:.0f} ms after A answered")
    state = await settled(b, token, imported["version"])
    print(f"B screens with {state['words']} words (version {state['version']})")

    print("a word added through A, until B reports its version:")
    quiet = await changes_reach_b(a, b, token, opts.changes, "静")
    quiet_build = (await settled(b, token, 0))["build_ms"]
    print(f"  quiet machine              {summary(quiet)}")
    print(f"    baseline: B's full build of the lexicon, quiet: {quiet_build:.0f} ms")
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(opts.hogs)]
    try:
        await asyncio.sleep(1)
        loaded = await changes_reach_b(a, b, token, opts.changes, "忙")
        loaded_build = (await settled(b, token, 0))["build_ms"]
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    print(f"  {opts.hogs} CPU hogs on {os.cpu_count()} cores  {summary(loaded)}")
    print(f"    baseline: B's full build of the lexicon, loaded: {loaded_build:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20, help="words added per phase")
    parser.add_argument("--hogs", type=int, default=2, help="busy-looping processes in the loaded phase")
    parser.add_argument("--lines", type=int, default=0,
                        help="import only the first N lines of the lexicon (a quick check that it runs) [all]")
    opts = parser.parse_args(argv)
    print(f"setup: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} at start; two hub processes, SecantusDB, Redis on loopback")
    folder = Path(tempfile.mkdtemp(prefix="bench-reload-"))
    children = Children(folder)
    try:
        asyncio.run(run(opts, children))
    finally:
        children.stop_all()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
