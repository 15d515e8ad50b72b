"""End-to-end benchmark of the hub: the socket ceiling, the storage ceiling, the hub itself, memory per idle socket.

Run from the repository root (see ``bench/README-hub.md`` for the figures of the last run)::

    .venv/bin/python -m bench.hub            # ~3 minutes
    .venv/bin/python -m bench.hub --quick    # ~1.5 minutes

In one run, each part on its own freshly started servers, one after the other:

1. **Socket ceiling** - a bare Tornado WebSocket relay (``--serve-relay``, this module run as its own process; no
   auth, no storage): N client pairs, each message relayed to the peer. Closed loop with a window of messages in
   flight per pair gives the saturation rate and its latency; then an open loop at half that rate.
2. **Storage ceiling** - a fresh SecantusDB (``hub.embedded.start_embedded``: ``--sync-on-commit``,
   ``retryWrites=false``) with the hub's unique indexes of ``messages`` and the hub's client options (w=majority,
   j=True): ``insert_one`` one by one, ``insert_many`` by 100 and by 500, and the hub's conversation-summary
   write (two ``UpdateOne`` per conversation in one ``bulk_write``).
3. **The hub end to end** - a fresh SecantusDB and ``python -m hub`` (signing plugin on, rate limit raised). N
   residents and N doctors (accounts made with ``hub.accounts.Accounts``, teams and active signings written
   straight into the signing plugin's collections), logged in over ``POST /api/auth/token``, N consultations
   opened over ``POST /api/consultations``. Residents send dialogue texts over ``/ws``; the doctor of each
   consultation receives them. Closed loop (a window of un-acked sends per resident) for the saturation
   throughput, then an open loop at half of it for the latency there. Every acked message is checked to be
   delivered exactly once to the doctor (and echoed once to the sender) under the seq of its ack, seq gap-free
   from 1 in every conversation, and stored (``messages`` count, ``conversations.last_seq``).
4. **Memory per idle connection** - M more sockets authenticated to the same hub (tokens of the same users), idle;
   VmRSS of the hub process before and after, divided by M. Run before part 3's load, on a hub that has served
   nothing but the logins, so the figure is not hidden in memory freed by the load.

The load generator is this process: one asyncio event loop and a lean RFC 6455 client on ``asyncio.Protocol`` (no
task per socket, frames parsed in ``data_received``, frames of one loop iteration written with one ``write`` per
socket, client frames masked with an all-zero key, which is legal and spares the XOR). The servers run in their
own processes, so with 2 cores the server under test can have one to itself (CPU use of each process is printed
for every phase).

Exit status: 0 when every check held (missed targets are reported, not failed), 1 when a message was lost,
doubled or numbered wrong, a frame was refused or a conversation head stayed behind its last ack, 2 when the
benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import csv
import hashlib
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIALOGUES = Path("medical-dialogue") / "internal-medicine-sample.csv"
PASSWORD = "bench-password-123"
HUB_DB = "bench_hub"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MAX_STORAGE_CALLS = 200_000  # per storage measurement, besides its time limit
MAX_TEXT_CHARS = 1000  # the hub accepts up to 5,000; the dialogues are far shorter anyway
perf = time.perf_counter


class BenchError(Exception):
    """The benchmark could not run (a server did not start, a login failed ...): exit status 2."""


# -- what went wrong during the run -------------------------------------------------------------------------------


class Problems:
    """Correctness failures, counted by kind with the first few examples of each: any of them means exit 1."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def add(self, kind: str, example: str = "") -> None:
        self.counts[kind] += 1
        shown = self.examples.setdefault(kind, [])
        if example and len(shown) < 3:
            shown.append(example)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def lines(self) -> list[str]:
        return [f"  {kind}: {count}" + (f"  (e.g. {'; '.join(self.examples[kind])})" if self.examples[kind] else "")
                for kind, count in sorted(self.counts.items())]


PROBLEMS = Problems()


def log(message: str) -> None:
    """Progress, on stderr (the report goes to stdout)."""
    print(f"[{perf() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


STARTED = perf()


# -- a lean WebSocket client ---------------------------------------------------------------------------------------

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ZERO_MASK = b"\x00\x00\x00\x00"
SOCKETS: set[RawWs] = set()  # every client socket, so that teardown can abort whatever is left
_dirty: list[RawWs] = []


def _ignore(_payload: bytes) -> None:
    pass


def _flush_dirty() -> None:
    dirty = _dirty[:]
    _dirty.clear()
    for ws in dirty:
        ws.flush()


class RawWs(asyncio.Protocol):
    """One client WebSocket (RFC 6455, text frames, no extensions). ``on_frame`` gets each text message's payload
    as bytes, synchronously, from ``data_received``."""

    def __init__(self, host: str, path: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.host = host
        self.path = path
        self.ready: asyncio.Future[None] = self.loop.create_future()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.on_frame: Callable[[bytes], None] = _ignore
        self.on_lost: Callable[[RawWs], None] | None = None
        self.transport: asyncio.Transport | None = None
        self.upgraded = False
        self.closing = False
        self.close_code: int | None = None
        self._buf = bytearray()
        self._out: list[bytes] = []
        self._frag: bytearray | None = None
        self._accept = b""
        SOCKETS.add(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16))
        self._accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
        transport.write(b"GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                        % (self.path.encode(), self.host.encode(), key))

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[:end + 4]
            if not head.startswith(b"HTTP/1.1 101") or self._accept not in head:
                if not self.ready.done():
                    self.ready.set_exception(BenchError(f"upgrade refused: {head[:200]!r}"))
                self.closing = True
                self.transport.close()  # type: ignore[union-attr]
                return
            self.upgraded = True
            self.ready.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, length = buf[pos], buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length, start = int.from_bytes(buf[pos + 2:pos + 4], "big"), pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, start = int.from_bytes(buf[pos + 2:pos + 10], "big"), pos + 10
            end = start + length
            if end > size:
                break
            payload = bytes(buf[start:end])
            pos = end
            opcode = b0 & 0x0F
            if opcode in (1, 2, 0):
                if opcode and b0 & 0x80:
                    self._deliver(payload)
                elif opcode:
                    self._frag = bytearray(payload)
                elif self._frag is not None:
                    self._frag += payload
                    if b0 & 0x80:
                        whole, self._frag = bytes(self._frag), None
                        self._deliver(whole)
            elif opcode == 9:  # ping: pong with the same payload
                self._write_control(0xA, payload)
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if not self.closing:
                    self.closing = True
                    self._write_control(0x8, payload[:2])
                self.transport.close()  # type: ignore[union-attr]
                break
        if pos:
            del buf[:pos]

    def _deliver(self, payload: bytes) -> None:
        try:
            self.on_frame(payload)
        except Exception as exc:  # a bug of the benchmark or a malformed frame: count it, keep the socket
            PROBLEMS.add("frame the benchmark could not handle", f"{exc!r} on {payload[:120]!r}")

    def connection_lost(self, exc: Exception | None) -> None:
        SOCKETS.discard(self)
        if not self.ready.done():
            self.ready.set_exception(BenchError(f"connection lost before the upgrade: {exc!r}"))
        if not self.done.done():
            self.done.set_result(None)
        if not self.closing and self.on_lost is not None:
            self.on_lost(self)

    def send(self, data: bytes) -> None:
        """Queue one text frame; everything queued in this loop iteration leaves in one write."""
        n = len(data)
        if n < 126:
            head = bytes((0x81, 0x80 | n))
        elif n < 65536:
            head = b"\x81\xfe" + n.to_bytes(2, "big")
        else:
            head = b"\x81\xff" + n.to_bytes(8, "big")
        if not self._out:
            if not _dirty:
                self.loop.call_soon(_flush_dirty)
            _dirty.append(self)
        self._out += (head, ZERO_MASK, data)

    def flush(self) -> None:
        if self._out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self._out))
        self._out.clear()

    def _write_control(self, opcode: int, payload: bytes) -> None:
        self.flush()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + ZERO_MASK + payload)

    def close(self, code: int = 1000) -> None:
        """Start the closing handshake (the server answers and the connection ends)."""
        if self.closing or self.transport is None:
            return
        self.closing = True
        self._write_control(0x8, code.to_bytes(2, "big"))

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()


async def ws_connect(port: int, path: str, timeout: float = 30.0) -> RawWs:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        _, ws = await loop.create_connection(lambda: RawWs(f"127.0.0.1:{port}", path), "127.0.0.1", port)
        await ws.ready
    return ws


async def hub_socket(port: int, token: str, timeout: float = 30.0) -> RawWs:
    """A socket to the hub's ``/ws``, authenticated with an ``auth`` frame (answered by ``welcome``)."""
    ws = await ws_connect(port, "/ws", timeout)
    answer: asyncio.Future[bytes] = ws.loop.create_future()

    def first(payload: bytes) -> None:
        if not answer.done():
            answer.set_result(payload)

    ws.on_frame = first
    ws.send(b'{"type":"auth","token":"%s"}' % token.encode())
    async with asyncio.timeout(timeout):
        frame = json.loads(await answer)
    ws.on_frame = _ignore
    if frame.get("type") != "welcome":
        ws.abort()
        raise BenchError(f"auth was answered with {frame}")
    return ws


async def close_all(sockets: Iterable[RawWs], timeout: float = 15.0) -> None:
    """Close sockets with the closing handshake; abort those that have not finished in time."""
    sockets = list(sockets)
    for ws in sockets:
        ws.close()
    pending = [ws.done for ws in sockets if not ws.done.done()]
    if pending:
        await asyncio.wait(pending, timeout=timeout)
    for ws in sockets:
        if not ws.done.done():
            ws.abort()


async def bounded(limit: int, items: Iterable[Any], work: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """``work(item)`` for every item, at most ``limit`` at a time, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(item: Any) -> Any:
        async with gate:
            return await work(item)

    return await asyncio.gather(*(one(item) for item in items))


async def wait_until(ready: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = perf() + timeout
    while not ready():
        if perf() > deadline:
            return False
        await asyncio.sleep(step)
    return True


async def pace(rate: float, seconds: float, send_one: Callable[[], None], backlog: Callable[[], int],
               max_backlog: int) -> bool:
    """Open loop: call ``send_one`` ``rate`` times a second for ``seconds``, whatever the answers do. Returns False
    (and stops) if the backlog of unanswered sends passes ``max_backlog``: the system is overloaded."""
    start, total, sent = perf(), int(rate * seconds), 0
    while sent < total:
        due = min(total, int((perf() - start) * rate) + 1)
        while sent < due:
            send_one()
            sent += 1
        if backlog() > max_backlog:
            return False
        await asyncio.sleep(0.001)
    return True


# -- processes, CPU and memory -----------------------------------------------------------------------------------


def raise_nofile() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (also the pre-exec step of every server this benchmark starts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {key} for process {pid}")


def busy_seconds() -> float:
    """CPU time spent by the whole machine (all cores, not idle, not waiting for I/O), from /proc/stat."""
    with open("/proc/stat") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK


class CpuMeter:
    """CPU use of named processes over a window, in % of one core, and of every other process of the machine
    ("others": the benchmark shares the machine; anything there took CPU from the processes measured)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.t0 = 0.0
        self.c0: dict[str, float] = {}
        self.busy0 = 0.0

    def start(self) -> None:
        self.t0 = perf()
        self.c0 = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.busy0 = busy_seconds()

    def stop(self) -> dict[str, float]:
        elapsed = perf() - self.t0
        used = {name: 100.0 * (cpu_seconds(pid) - self.c0[name]) / elapsed for name, pid in self.pids.items()}
        used["others"] = max(0.0, 100.0 * (busy_seconds() - self.busy0) / elapsed - sum(used.values()))
        OTHERS.append(used["others"])
        return used


OTHERS: list[float] = []  # "others" of every measured window, for the warning at the end


def machine_busy(seconds: float = 1.0) -> float:
    """How busy the machine is right now, in % of one core."""
    before = busy_seconds()
    time.sleep(seconds)
    return 100.0 * (busy_seconds() - before) / seconds


def cpu_text(cpu: dict[str, float]) -> str:
    return "CPU " + ", ".join(f"{name} {value:.0f}%" for name, value in cpu.items())


class Children:
    """Every process the benchmark starts, stopped in reverse order at the end, on errors and on Ctrl-C."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[str, Any]] = []

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log_path = self.folder / f"{name}.log"
        with open(log_path, "ab") as out:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=raise_nofile)
        self.started.append((name, process))
        return process

    def adopt(self, name: str, started: Any) -> Any:
        """Something started elsewhere (``hub.testing``: a Redis, a hub process), stopped with the rest."""
        self.started.append((name, started))
        return started

    def embedded(self, name: str) -> Any:
        from hub.embedded import start_embedded

        db = start_embedded(self.folder / name)
        self.started.append((name, db))
        return db

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self, thing: Any) -> None:
        for i, (name, started) in enumerate(self.started):
            if started is thing:
                del self.started[i]
                self._stop(name, started)
                return

    def stop_all(self) -> None:
        while self.started:
            name, started = self.started.pop()
            self._stop(name, started)

    @staticmethod
    def _stop(name: str, started: Any) -> None:
        try:
            if isinstance(started, subprocess.Popen):
                if started.poll() is None:
                    started.send_signal(signal.SIGTERM)
                    try:
                        started.wait(25)
                    except subprocess.TimeoutExpired:
                        started.kill()
                        started.wait(10)
            else:  # an EmbeddedDatabase, RedisServer or HubProcess: SIGTERM, then SIGKILL
                started.stop()
        except Exception as exc:
            print(f"stopping {name} failed: {exc!r}", file=sys.stderr)


def wait_listening(port: int, process: subprocess.Popen, children: Children, name: str, timeout: float) -> None:
    """``hub.testing.wait_for_port``, its failure a BenchError (exit status 2) with the end of the process's log."""
    from hub.testing import wait_for_port

    try:
        wait_for_port(port, timeout, process, name, children.folder / f"{name}.log")
    except RuntimeError as exc:
        raise BenchError(str(exc)) from None


# -- figures ---------------------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p99 and max of seconds, in milliseconds (nearest rank)."""
    if not values:
        return {"p50": math.nan, "p99": math.nan, "max": math.nan, "n": 0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000

    return {"p50": rank(0.50), "p99": rank(0.99), "max": ordered[-1] * 1000, "n": len(ordered)}


def lat_text(lat: dict[str, float]) -> str:
    return f"p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.0f} ms"


def load_texts() -> tuple[list[str], Path]:
    """The ``ask`` and ``answer`` texts of the shared medical dialogues."""
    from hub.testing import shared_data_dir

    path = shared_data_dir() / DIALOGUES
    if not path.exists():
        raise BenchError(f"dialogues not found at {path} (set HUB_SHARED_DATA to the shared data folder)")
    texts: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            for column in ("ask", "answer"):
                text = (row.get(column) or "").strip()
                if text:
                    texts.append(text[:MAX_TEXT_CHARS])
    if not texts:
        raise BenchError(f"no ask/answer texts in {path}")
    return texts, path


def json_inner(text: str) -> bytes:
    """A text as it sits between the quotes of a JSON string (UTF-8, not ASCII-escaped, like the hub writes)."""
    return json.dumps(text, ensure_ascii=False)[1:-1].encode()


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


# -- 1. the socket ceiling: a bare Tornado relay -------------------------------------------------------------------


def serve_relay(port: int, nodelay: bool) -> None:
    """The relay server (its own process): ``/relay/<pair>/<a|b>``; a message from one side goes to the other.
    With ``nodelay`` its sockets set TCP_NODELAY (Tornado leaves Nagle's algorithm on by default)."""
    import tornado.web
    import tornado.websocket

    peers: dict[tuple[str, str], tornado.websocket.WebSocketHandler] = {}

    class Relay(tornado.websocket.WebSocketHandler):
        def check_origin(self, origin: str) -> bool:
            return True

        def open(self, pair: str, side: str) -> None:
            if nodelay:
                self.set_nodelay(True)
            self.me = (pair, side)
            self.peer = (pair, "b" if side == "a" else "a")
            peers[self.me] = self

        def on_message(self, message: str | bytes) -> None:
            peer = peers.get(self.peer)
            if peer is not None:
                with contextlib.suppress(tornado.websocket.WebSocketClosedError):
                    peer.write_message(message)

        def on_close(self) -> None:
            if peers.get(self.me) is self:
                del peers[self.me]

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server = tornado.web.Application([(r"/relay/(\d+)/([ab])", Relay)]).listen(port, "127.0.0.1")
        await stop.wait()
        server.stop()

    asyncio.run(run())


class Window:
    """What one measuring window saw: counts and latencies recorded only while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.t0 = 0.0
        self.count = 0
        self.acks = 0
        self.lat: list[float] = []
        self.ack_lat: list[float] = []

    def begin(self) -> None:
        self.count = self.acks = 0
        self.lat, self.ack_lat = [], []
        self.t0 = perf()
        self.on = True

    def end(self) -> float:
        self.on = False
        return perf() - self.t0


async def bench_relay(opts: argparse.Namespace, texts: list[bytes], children: Children) -> dict[str, Any]:
    from hub.testing import free_port

    port = free_port()
    argv = [sys.executable, "-m", "bench.hub", "--serve-relay", str(port), *(["--relay-nagle"] * opts.relay_nagle)]
    process = children.spawn("relay", argv,
                             {**os.environ, "PYTHONUNBUFFERED": "1"})
    wait_listening(port, process, children, "relay", 30)
    pairs = opts.pairs
    log(f"relay: connecting {2 * pairs} sockets")
    receivers = await bounded(100, range(pairs), lambda i: ws_connect(port, f"/relay/{i}/b"))
    senders = await bounded(100, range(pairs), lambda i: ws_connect(port, f"/relay/{i}/a"))
    for ws in senders + receivers:
        ws.on_lost = lambda _ws: PROBLEMS.add("relay socket dropped")
    sent_at: dict[int, float] = {}
    window = Window()
    state = {"n": 0, "closed_loop": False, "rr": 0}

    def send(i: int) -> None:
        n = state["n"] = state["n"] + 1
        sent_at[n] = perf()
        senders[i].send(b"%d|" % n + texts[n % len(texts)])

    def receiver(i: int) -> Callable[[bytes], None]:
        def on_frame(payload: bytes) -> None:
            t = perf()
            t0 = sent_at.pop(int(payload[:payload.index(b"|")]))
            if window.on:
                window.count += 1
                window.lat.append(t - t0)
            if state["closed_loop"]:
                send(i)
        return on_frame

    for i, ws in enumerate(receivers):
        ws.on_frame = receiver(i)
    meter = CpuMeter({"relay": process.pid, "load generator": os.getpid()})
    result: dict[str, Any] = {"pairs": pairs, "window": opts.relay_window}

    log(f"relay: closed loop, {opts.relay_window} in flight per pair, {opts.warmup:.0f} s warm-up + "
        f"{opts.relay_secs:.0f} s")
    state["closed_loop"] = True
    for i in range(pairs):
        for _ in range(opts.relay_window):
            send(i)
    await asyncio.sleep(opts.warmup)
    window.begin()
    meter.start()
    await asyncio.sleep(opts.relay_secs)
    elapsed = window.end()
    result["sat_cpu"] = meter.stop()
    result["sat_rate"] = window.count / elapsed
    result["sat_lat"] = percentiles(window.lat)
    state["closed_loop"] = False
    if not await wait_until(lambda: not sent_at, 20):
        PROBLEMS.add("relay messages never relayed", f"{len(sent_at)} in flight after 20 s")
    log(f"relay: saturation {result['sat_rate']:,.0f} msg/s, {lat_text(result['sat_lat'])}; "
        f"{cpu_text(result['sat_cpu'])}")

    half = result["sat_rate"] / 2
    log(f"relay: open loop at {half:,.0f} msg/s (half), {opts.warmup:.0f} s warm-up + {opts.relay_secs:.0f} s")

    def send_rr() -> None:
        state["rr"] = (state["rr"] + 1) % pairs
        send(state["rr"])

    pacing = asyncio.create_task(pace(half, opts.warmup + opts.relay_secs, send_rr, lambda: len(sent_at),
                                      int(half * 5) + 5000))
    await asyncio.sleep(opts.warmup)
    window.begin()
    meter.start()
    kept_up = await pacing
    elapsed = window.end()
    result["half_cpu"] = meter.stop()
    result.update(half_offered=half, half_rate=window.count / elapsed, half_lat=percentiles(window.lat),
                  half_kept_up=kept_up)
    if not await wait_until(lambda: not sent_at, 20):
        PROBLEMS.add("relay messages never relayed", f"{len(sent_at)} in flight after 20 s")
    log(f"relay: half load {result['half_rate']:,.0f} msg/s, {lat_text(result['half_lat'])}; "
        f"{cpu_text(result['half_cpu'])}")
    await close_all(senders + receivers)
    children.stop(process)
    return result


# -- 2. the storage ceiling ----------------------------------------------------------------------------------------


class MessageDocs:
    """Message documents shaped like the hub's (hub.messaging.Messaging.send), spread over ``convs``
    conversations, each taking the next seq of its conversation."""

    def __init__(self, texts: list[str], convs: int, tag: str) -> None:
        from hub.ids import new_id

        self.texts = texts
        self.convs = [new_id() for _ in range(convs)]
        self.seq = dict.fromkeys(self.convs, 0)
        self.tag = tag
        self.n = 0

    def next(self) -> dict[str, Any]:
        from hub.ids import now

        self.n += 1
        conv = self.convs[self.n % len(self.convs)]
        self.seq[conv] += 1
        return {"conv": conv, "seq": self.seq[conv], "from": {"id": "u" + conv, "role": "resident", "name": "居民"},
                "kind": "text", "dedupe": f"u{conv}:{self.tag}{self.n}", "ts": now(),
                "text": self.texts[self.n % len(self.texts)],
                "screen": {"action": "pass", "words": [], "categories": []}}


async def bench_storage(opts: argparse.Namespace, texts: list[str], children: Children) -> dict[str, Any]:
    from pymongo import UpdateOne

    from hub import messaging, store

    db = children.embedded("storage-db")
    client = store.connect(db.uri)  # the hub's client options: tz-aware, w=majority, journal=True
    result: dict[str, Any] = {"uri_options": db.uri.split("?", 1)[1]}
    meter = CpuMeter({"database": db.process.pid, "load generator": os.getpid()})

    async def measure(key: str, label: str, step: Callable[[], Awaitable[int]]) -> None:
        """Run ``step`` (one call = one write, returning how many documents or operations it wrote) for the
        warm-up, then count for ``storage_secs``."""
        log(f"storage: {label}, {opts.warmup:g} s warm-up + {opts.storage_secs:g} s")
        start, calls = perf(), 0
        while perf() - start < opts.warmup and calls < MAX_STORAGE_CALLS:
            await step()
            calls += 1
        n, calls, start = 0, 0, perf()
        meter.start()
        while perf() - start < opts.storage_secs and calls < MAX_STORAGE_CALLS:
            n += await step()
            calls += 1
        result[key] = n / (perf() - start)
        result[key + "_cpu"] = meter.stop()
        log(f"storage: {label}: {result[key]:,.0f}/s; {cpu_text(result[key + '_cpu'])}")

    try:
        database = store.database(client, "bench_storage")
        await store.ensure_indexes(database, messaging.INDEXES)
        coll = database.messages
        await coll.find_one({})

        docs = MessageDocs(texts, opts.consultations, "one")

        async def one() -> int:
            await coll.insert_one(docs.next())
            return 1

        await measure("insert_one", "insert_one, one at a time", one)
        for size in (100, 500):
            batch_docs = MessageDocs(texts, opts.consultations, f"many{size}-")

            async def many(size: int = size, batch_docs: MessageDocs = batch_docs) -> int:
                await coll.insert_many([batch_docs.next() for _ in range(size)], ordered=True)
                return size

            await measure(f"insert_many_{size}", f"insert_many by {size}", many)

        # The hub's conversation-summary write (Messaging.flush_summaries): per conversation one UpdateOne of
        # its head and one of the sender's read mark, all in one bulk_write.
        convs = database.conversations
        conv_ids = [f"c{i}" for i in range(opts.consultations)]
        await convs.insert_many([{"_id": c, "last_seq": 0, "read": {}} for c in conv_ids])
        seq = 0

        async def summaries() -> int:
            nonlocal seq
            seq += 1
            ops = []
            for c in conv_ids:
                ops.append(UpdateOne({"_id": c, "last_seq": {"$lt": seq}},
                                     {"$set": {"last_seq": seq, "last_message": {"seq": seq, "text": texts[seq]}}}))
                ops.append(UpdateOne({"_id": c}, {"$max": {f"read.u{c}": seq}}))
            await convs.bulk_write(ops, ordered=False)
            return len(ops)

        await measure("bulk_update", f"bulk_write of {2 * len(conv_ids)} UpdateOne (the hub's summary write)",
                      summaries)
        result["bulk_update_batch"] = 2 * len(conv_ids)
    finally:
        await client.close()
    children.stop(db)
    return result


# -- 3. and 4. the hub ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Conv:
    """One consultation under load and everything the benchmark saw of it."""

    idx: int
    id: str
    resident: RawWs | None = None
    doctor: RawWs | None = None
    n: int = 0  # sends so far
    pending_ack: dict[str, float] = field(default_factory=dict)  # id → send time
    pending_delivery: dict[str, float] = field(default_factory=dict)  # id → send time
    acked: dict[int, str] = field(default_factory=dict)  # seq → id, from the acks
    delivered: dict[int, str] = field(default_factory=dict)  # seq → id, from the doctor's message frames
    echoed: set[int] = field(default_factory=set)  # seqs of the sender's own copies
    last_delivered: int = 0
    out_of_order: int = 0


class HubLoad:
    """The load on the hub's sockets: sends, acks, deliveries and their checks."""

    def __init__(self, convs: list[Conv], texts: list[bytes]) -> None:
        self.convs = convs
        self.texts = texts
        self.k = 0
        self.rr = 0
        self.closed_loop = False
        self.window = Window()
        self.errors: Counter[str] = Counter()

    def send(self, conv: Conv) -> None:
        conv.n += 1
        mid = f"{conv.idx}.{conv.n}"
        raw = mid.encode()
        self.k += 1
        t = perf()
        conv.pending_ack[mid] = t
        conv.pending_delivery[mid] = t
        conv.resident.send(b'{"type":"send","id":"%s","conv":"%s","kind":"text","text":"[%s] %s"}'  # type: ignore
                           % (raw, conv.id.encode(), raw, self.texts[self.k % len(self.texts)]))

    def send_rr(self) -> None:
        self.rr = (self.rr + 1) % len(self.convs)
        self.send(self.convs[self.rr])

    def in_flight(self) -> int:
        return sum(len(c.pending_ack) + len(c.pending_delivery) for c in self.convs)

    def settled(self) -> bool:
        return all(not c.pending_ack and not c.pending_delivery and len(c.echoed) >= len(c.acked)
                   for c in self.convs)

    def resident_handler(self, conv: Conv) -> Callable[[bytes], None]:
        window = self.window

        def on_frame(payload: bytes) -> None:
            frame = json.loads(payload)
            t = perf()
            kind = frame["type"]
            if kind == "ack":
                mid = frame["id"]
                t0 = conv.pending_ack.pop(mid, None)
                seq = frame["seq"]
                if t0 is None:
                    PROBLEMS.add("ack for nothing in flight", f"{conv.id} id {mid}")
                if seq in conv.acked:
                    PROBLEMS.add("two acks with one seq", f"{conv.id} seq {seq}")
                conv.acked[seq] = mid
                if window.on and t0 is not None:
                    window.acks += 1
                    window.ack_lat.append(t - t0)
                if self.closed_loop:
                    self.send(conv)
            elif kind == "message":
                seq = frame["seq"]
                if seq in conv.echoed:
                    PROBLEMS.add("message delivered twice to its sender", f"{conv.id} seq {seq}")
                conv.echoed.add(seq)
            elif kind == "error":
                mid = frame.get("id")
                conv.pending_ack.pop(mid, None)
                conv.pending_delivery.pop(mid, None)
                self.errors[frame.get("code", "?")] += 1
                PROBLEMS.add(f"send refused with error {frame.get('code')}", frame.get("message", ""))
                if self.closed_loop:
                    self.send(conv)
        return on_frame

    def doctor_handler(self, conv: Conv) -> Callable[[bytes], None]:
        window = self.window

        def on_frame(payload: bytes) -> None:
            frame = json.loads(payload)
            if frame["type"] != "message":
                return
            t = perf()
            text = frame["text"]
            mid = text[1:text.index("]")]
            seq = frame["seq"]
            if seq in conv.delivered:
                PROBLEMS.add("message delivered twice", f"{conv.id} seq {seq}")
            conv.delivered[seq] = mid
            t0 = conv.pending_delivery.pop(mid, None)
            if t0 is None:
                PROBLEMS.add("delivery of a message not in flight", f"{conv.id} id {mid} seq {seq}")
            elif window.on:
                window.count += 1
                window.lat.append(t - t0)
            if seq != conv.last_delivered + 1:
                conv.out_of_order += 1
            conv.last_delivered = max(conv.last_delivered, seq)
        return on_frame

    def check(self) -> dict[str, int]:
        """Every acked message delivered exactly once under its ack's seq; seqs 1..n with no gap."""
        totals = Counter()
        for conv in self.convs:
            totals["acked"] += len(conv.acked)
            totals["delivered"] += len(conv.delivered)
            totals["out_of_order"] += conv.out_of_order
            if conv.pending_ack:
                PROBLEMS.add("sends never acked", f"{conv.id}: {len(conv.pending_ack)}")
            if conv.pending_delivery:
                PROBLEMS.add("messages never delivered to the doctor", f"{conv.id}: {len(conv.pending_delivery)}")
            if set(conv.acked) != set(range(1, len(conv.acked) + 1)):
                missing = sorted(set(range(1, max(conv.acked, default=0) + 1)) - set(conv.acked))
                PROBLEMS.add("gap in acked seqs", f"{conv.id} missing {missing[:5]}")
            if conv.delivered != conv.acked:
                wrong = [s for s in conv.acked if conv.delivered.get(s) != conv.acked[s]]
                extra = [s for s in conv.delivered if s not in conv.acked]
                PROBLEMS.add("delivered seq differs from acked seq", f"{conv.id}: {wrong[:3]} extra {extra[:3]}")
            if conv.echoed != set(conv.acked):
                PROBLEMS.add("sender's own copies differ from its acks",
                             f"{conv.id}: {len(conv.echoed)} copies, {len(conv.acked)} acks")
        return dict(totals)


async def http_json(url: str, method: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = HTTPRequest(url, method=method, headers=headers, request_timeout=60,
                          body=json.dumps(body) if body is not None else None)
    response = await AsyncHTTPClient().fetch(request, raise_error=False)
    try:
        data = json.loads(response.body) if response.body else None
    except ValueError:
        data = response.body[:300]
    return response.code, data


async def seed_users(database: Any, secret: str, n: int) -> tuple[list[dict], list[dict]]:
    """N residents and N doctors through ``Accounts.create_user`` (fast hash), one team per doctor and an active
    signing of each resident with their doctor's team, in the signing plugin's data model."""
    from hub.accounts import Accounts, no_announce
    from hub.audit import AuditLog
    from hub.ids import new_id, now

    accounts = Accounts(database, secret, 6 * 3600, time_cost=1, memory_kib=1024, max_failures=5, lockout_secs=900,
                        audit=AuditLog(database), announce=no_announce)

    async def make(i: int) -> tuple[dict, dict]:
        doctor = await accounts.create_user(username=f"bench_doctor_{i:04d}", password=PASSWORD, role="doctor",
                                            name=f"医生{i:04d}", region="330522100000")
        resident = await accounts.create_user(username=f"bench_resident_{i:04d}", password=PASSWORD,
                                              role="resident", name=f"居民{i:04d}", region="330522100201")
        return resident, doctor

    pairs = await bounded(32, range(n), make)
    moment = now()
    teams, signings = [], []
    for i, (resident, doctor) in enumerate(pairs):
        team_id = new_id()
        teams.append({"_id": team_id, "name": f"基准家庭医生团队{i:04d}", "institution": "基准社区卫生服务中心",
                      "region": doctor["region"], "members": [doctor["_id"]], "leader": doctor["_id"],
                      "created_at": moment})
        signings.append({"_id": new_id(), "resident_id": resident["_id"], "team_id": team_id,
                         "doctor_id": doctor["_id"], "status": "active", "start": moment - timedelta(days=1),
                         "end": moment + timedelta(days=365), "created_at": moment})
    await database.teams.insert_many(teams)
    await database.signings.insert_many(signings)
    return [r for r, _ in pairs], [d for _, d in pairs]


class Profiler:
    """``py-spy record`` of a few processes for one window (``--profile``); prints where their time went."""

    def __init__(self, children: Children, pids: dict[str, int]) -> None:
        self.children = children
        self.pids = pids
        self.binary = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        self.running: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, seconds: float) -> None:
        if not self.binary:
            log("profile: py-spy not found (.venv/bin/pip install py-spy); not profiling")
            return
        for name, pid in self.pids.items():
            out = self.children.folder / f"profile-{name}.txt"
            argv = [self.binary, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                    "--rate", "200", "--nonblocking", "--format", "raw", "--output", str(out)]
            self.running.append((name, self.children.spawn(f"py-spy-{name}", argv), out))

    def finish(self, top: int = 18) -> list[str]:
        lines: list[str] = []
        for name, process, out in self.running:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
            self.children.stop(process)
            if not out.exists():
                lines.append(f"profile of {name}: none ({self.children.log_tail('py-spy-' + name, 500)})")
                continue
            lines += profile_summary(name, out.read_text(errors="replace"), top)
            lines.append(f"  (collapsed stacks: {out})")
        self.running.clear()
        return lines


def py_spy_dump(children: Children, pid: int, name: str) -> None:
    """One ``py-spy dump`` of a process into the working folder (kept when something went wrong)."""
    binary = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if binary:
        out = children.folder / f"{name}.txt"
        with open(out, "wb") as fh:
            subprocess.run([binary, "dump", "--pid", str(pid)], stdout=fh, stderr=subprocess.STDOUT, timeout=30,
                           check=False)
        log(f"py-spy dump of process {pid} written to {out}")


def profile_summary(name: str, raw: str, top: int) -> list[str]:
    """Self and inclusive time per function from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    strip = re.compile(r":\d+\)$")
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        frames = [strip.sub(")", f) for f in stack.split(";")[1:]]  # the first is the process / thread
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    lines = [f"profile of {name}: {total} samples (active CPU only; idle excluded)"]
    if not total:
        return lines
    lines.append("  self time:")
    lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    lines.append("  inclusive time (functions of the hub, handlers, pymongo, tornado, asyncio, json):")
    wanted = ("hub/", "handlers/", "pymongo/", "tornado/", "asyncio/", "json/", "bson/", "secantus")
    shown = [(f, c) for f, c in inclusive.most_common() if any(w in f for w in wanted)][:top]
    lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in shown]
    return lines


async def bench_hub(opts: argparse.Namespace, texts: list[str], children: Children) -> dict[str, Any]:
    from hub import store
    from hub.testing import HubProcess

    result: dict[str, Any] = {}
    db = children.embedded("hub-db")
    secret = secrets.token_urlsafe(36)
    client = store.connect(db.uri)
    database = store.database(client, HUB_DB)
    try:
        n = opts.consultations
        log(f"hub: {n} residents and {n} doctors (Accounts, fast hash), teams and signings")
        residents, doctors = await seed_users(database, secret, n)

        env = {"HUB_MONGO_URI": db.uri, "HUB_MONGO_DB": HUB_DB, "HUB_SECRET_KEY": secret,
               "HUB_PLUGINS": "signing=true", "HUB_SEED_DEMO": "false", "HUB_LOG_LEVEL": "WARNING",
               "HUB_WS_RATE_PER_SEC": "1000000", "HUB_WS_RATE_BURST": "1000000",
               # the idle-memory phase opens thousands of sockets with the tokens of a few hundred users
               "HUB_WS_MAX_SOCKETS_PER_USER": "1000000",
               "HUB_PASSWORD_TIME_COST": "1", "HUB_PASSWORD_MEMORY_KIB": "1024"}
        for item in opts.hub_env:
            key, _, value = item.partition("=")
            env[key] = value
        result["hub_env"] = {k: v for k, v in env.items()
                             if k.startswith("HUB_") and k not in ("HUB_SECRET_KEY", "HUB_MONGO_URI", "HUB_PORT")}
        log("hub: starting python -m hub")
        hub = HubProcess(env, children.folder / "hub.log", preexec_fn=raise_nofile, new_session=True)
        try:
            children.adopt("hub", hub.start(90))
        except RuntimeError as exc:
            raise BenchError(str(exc)) from None
        port = hub.port
        result["hub_nofile"] = open_files_limit(hub.pid)
        base = hub.url

        log(f"hub: {2 * n} logins over POST /api/auth/token")
        started = perf()

        async def login(user: dict) -> str:
            status, data = await http_json(base + "/api/auth/token", "POST",
                                           {"username": user["username"], "password": PASSWORD})
            if status != 200:
                raise BenchError(f"login of {user['username']} failed: {status} {data}")
            return data["access_token"]

        tokens = await bounded(16, residents + doctors, login)
        result["logins_per_s"] = 2 * n / (perf() - started)
        resident_tokens, doctor_tokens = tokens[:n], tokens[n:]

        log(f"hub: {n} consultations over POST /api/consultations")

        async def consult(i: int) -> str:
            status, data = await http_json(base + "/api/consultations", "POST", {"doctor_id": doctors[i]["_id"]},
                                           resident_tokens[i])
            if status not in (200, 201):
                raise BenchError(f"opening consultation {i} failed: {status} {data}")
            return data["id"]

        conv_ids = await bounded(16, range(n), consult)
        result["rss_ready_kb"] = proc_status_kb(hub.pid, "VmRSS")

        if "idle" in opts.phases:
            result["idle"] = await idle_memory(opts, port, hub.pid, tokens)

        if "hub" in opts.phases:
            await hub_load(opts, port, hub.pid, db.process.pid, texts, conv_ids, resident_tokens, doctor_tokens,
                           children, result)
            result["db_check"] = await check_database(database, result["load"],
                                                      lambda: (py_spy_dump(children, hub.pid, "hub-lagging-heads"),
                                                               py_spy_dump(children, db.process.pid,
                                                                           "database-lagging-heads")))
        result["rss_peak_kb"] = proc_status_kb(hub.pid, "VmHWM")
        result["rss_end_kb"] = proc_status_kb(hub.pid, "VmRSS")
    finally:
        await client.close()
    log("hub: stopping the hub and its database")
    children.stop_all()
    return result


def open_files_limit(pid: int) -> str:
    with open(f"/proc/{pid}/limits") as fh:
        for line in fh:
            if line.startswith("Max open files"):
                return "/".join(line.split()[3:5])
    return "?"


async def idle_memory(opts: argparse.Namespace, port: int, hub_pid: int, tokens: list[str]) -> dict[str, Any]:
    """M sockets authenticated to the hub and left idle: the hub's VmRSS before and after, per socket."""
    count = opts.idle
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 1000:
        raise BenchError(f"open-files limit {soft} is too low for {count} sockets (ulimit -n)")
    await asyncio.sleep(1.0)
    before = proc_status_kb(hub_pid, "VmRSS")
    log(f"idle: connecting and authenticating {count:,} sockets (VmRSS of the hub now {before / 1024:.1f} MiB)")
    started = perf()
    sockets = await bounded(200, range(count), lambda i: hub_socket(port, tokens[i % len(tokens)]))
    connect_secs = perf() - started
    for ws in sockets:
        ws.on_lost = lambda _ws: PROBLEMS.add("idle socket dropped by the hub")
    await asyncio.sleep(opts.idle_settle)
    after = proc_status_kb(hub_pid, "VmRSS")
    log(f"idle: {count:,} sockets in {connect_secs:.1f} s; VmRSS {before / 1024:.1f} → {after / 1024:.1f} MiB "
        f"= {(after - before) / count:.1f} KiB per socket")
    await close_all(sockets)
    await asyncio.sleep(1.0)
    return {"count": count, "before_kb": before, "after_kb": after, "per_conn_kb": (after - before) / count,
            "connect_secs": connect_secs, "after_close_kb": proc_status_kb(hub_pid, "VmRSS")}


async def hub_load(opts: argparse.Namespace, port: int, hub_pid: int, db_pid: int, texts: list[str],
                   conv_ids: list[str], resident_tokens: list[str], doctor_tokens: list[str], children: Children,
                   result: dict[str, Any]) -> None:
    convs = [Conv(i, c) for i, c in enumerate(conv_ids)]
    load = HubLoad(convs, [json_inner(t) for t in texts])
    log(f"hub: connecting {2 * len(convs)} sockets (residents and doctors)")
    doctors = await bounded(100, doctor_tokens, lambda t: hub_socket(port, t))
    residents = await bounded(100, resident_tokens, lambda t: hub_socket(port, t))
    for conv, resident, doctor in zip(convs, residents, doctors, strict=True):
        conv.resident, conv.doctor = resident, doctor
        resident.on_frame = load.resident_handler(conv)
        doctor.on_frame = load.doctor_handler(conv)
        resident.on_lost = doctor.on_lost = lambda ws: PROBLEMS.add("hub closed a load socket",
                                                                    f"close code {ws.close_code}")
    meter = CpuMeter({"hub": hub_pid, "database": db_pid, "load generator": os.getpid()})
    window = load.window
    phases: list[dict[str, Any]] = []

    async def settle(label: str) -> None:
        if not await wait_until(load.settled, 30):
            PROBLEMS.add("not settled 30 s after the load stopped",
                         f"{label}: {load.in_flight()} acks/deliveries outstanding")

    for size in opts.windows:
        log(f"hub: closed loop, {size} un-acked send(s) per resident, {opts.warmup:.0f} s warm-up + "
            f"{opts.sat_secs:.0f} s")
        profiler = None
        load.closed_loop = True
        for conv in convs:
            for _ in range(size):
                load.send(conv)
        await asyncio.sleep(opts.warmup)
        if opts.profile and size == opts.windows[0]:
            profiler = Profiler(children, {"hub": hub_pid, "database": db_pid})
            profiler.start(opts.sat_secs)
        window.begin()
        meter.start()
        await asyncio.sleep(opts.sat_secs)
        elapsed = window.end()
        phase = {"mode": "closed", "window": size, "rate": window.count / elapsed, "acks": window.acks / elapsed,
                 "ack_lat": percentiles(window.ack_lat), "del_lat": percentiles(window.lat), "cpu": meter.stop()}
        load.closed_loop = False
        await settle(f"window {size}")
        if profiler is not None:
            result["profile"] = profiler.finish()
        phases.append(phase)
        log(f"hub: window {size}: delivered {phase['rate']:,.0f} msg/s, ack {lat_text(phase['ack_lat'])}, "
            f"delivery {lat_text(phase['del_lat'])}; {cpu_text(phase['cpu'])}")

    saturation = max(p["rate"] for p in phases)
    half = opts.open_rate or saturation / 2
    log(f"hub: open loop at {half:,.0f} msg/s{'' if opts.open_rate else ' (half of saturation)'}, "
        f"{opts.warmup:.0f} s warm-up + "
        f"{opts.half_secs:.0f} s")
    pacing = asyncio.create_task(pace(half, opts.warmup + opts.half_secs, load.send_rr, load.in_flight,
                                      int(half * 10) + 5000))
    await asyncio.sleep(opts.warmup)
    window.begin()
    meter.start()
    kept_up = await pacing
    elapsed = window.end()
    phase = {"mode": "open", "offered": half, "rate": window.count / elapsed, "acks": window.acks / elapsed,
             "ack_lat": percentiles(window.ack_lat), "del_lat": percentiles(window.lat), "cpu": meter.stop(),
             "kept_up": kept_up}
    await settle("half load")
    phases.append(phase)
    log(f"hub: half load: delivered {phase['rate']:,.0f} msg/s, ack {lat_text(phase['ack_lat'])}, "
        f"delivery {lat_text(phase['del_lat'])}; {cpu_text(phase['cpu'])}")

    result["phases"] = phases
    result["saturation"] = saturation
    result["load"] = {c.id: len(c.acked) for c in convs}
    result["check"] = load.check()
    result["errors"] = dict(load.errors)
    await close_all(residents + doctors)


HEADS_TIMEOUT_SECS = 10.0


async def check_database(database: Any, acked: dict[str, int],
                         dump_hub: Callable[[], Any] | None = None) -> dict[str, Any]:
    """What the hub stored: one message per ack, and each conversation's head at its last acked seq (the hub
    updates heads after the ack, so they may lag a little; ``dump_hub`` is called once if they lag > 3 s)."""
    total = sum(acked.values())

    async def heads_ok() -> list[str]:
        heads = {c["_id"]: c.get("last_seq", 0)
                 async for c in database.conversations.find({"_id": {"$in": list(acked)}}, {"last_seq": 1})}
        return [c for c, n in acked.items() if heads.get(c) != n]

    wrong: list[str] = []
    started = perf()
    while True:
        wrong = await heads_ok()
        if not wrong or perf() - started > HEADS_TIMEOUT_SECS:
            break
        if perf() - started > 3 and dump_hub is not None:
            dump_hub()
            dump_hub = None
        await asyncio.sleep(0.2)
    heads_secs = perf() - started
    log(f"hub: conversation heads {'caught up' if not wrong else 'still behind'} {heads_secs:.1f} s after the "
        f"last ack was checked")
    stored = await database.messages.count_documents({})
    if stored != total:
        PROBLEMS.add("stored messages differ from acks", f"{stored} stored, {total} acked")
    for conv_id in wrong:
        doc = await database.conversations.find_one({"_id": conv_id}, {"last_seq": 1, "last_message.seq": 1})
        PROBLEMS.add(f"conversation head (conversations.last_seq) behind the last ack {heads_secs:.0f} s after "
                     f"the load stopped",
                     f"{conv_id}: last_seq {doc.get('last_seq')}, last_message.seq "
                     f"{(doc.get('last_message') or {}).get('seq')}, last ack {acked[conv_id]}")
    return {"stored": stored, "acked": total, "heads_wrong": len(wrong), "heads_secs": heads_secs}


# -- the report ----------------------------------------------------------------------------------------------------


def setup_lines(opts: argparse.Namespace, texts: list[str], data_path: Path, nofile: tuple[int, int]) -> list[str]:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    mem = _meminfo_total_gib()
    mean_len = sum(map(len, texts)) / len(texts)
    lines = [
        "家庭好医 hub benchmark (bench/hub.py)" + ("  --quick" if opts.quick else ""),
        f"  machine      {usable} usable cores of {cores} ({model or platform.machine()}), {mem:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        f"  software     Python {platform.python_version()}, tornado {package_version('tornado')}, "
        f"pymongo {package_version('pymongo')}, SecantusDB {package_version('SecantusDB')}, "
        f"argon2-cffi {package_version('argon2-cffi')}",
        f"  load         one asyncio process (raw RFC 6455 client); RLIMIT_NOFILE {nofile[0]}/{nofile[1]}; "
        f"machine load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"CPU busy {machine_busy():.0f}% of {usable * 100}%",
        f"  texts        {len(texts):,} ask/answer texts, mean {mean_len:.0f} chars, from {data_path}",
        f"  phases       {', '.join(opts.phases)}; warm-up {opts.warmup:g} s before every measured window",
    ]
    if "relay" in opts.phases:
        lines.append(f"  relay        {opts.pairs} pairs; closed loop {opts.relay_window} in flight per pair for "
                     f"{opts.relay_secs:g} s, then open loop at half for {opts.relay_secs:g} s")
    if "storage" in opts.phases:
        lines.append(f"  storage      {opts.storage_secs:g} s each after {opts.warmup:g} s warm-up: insert_one, "
                     f"insert_many 100, insert_many 500, "
                     f"bulk_write {2 * opts.consultations} UpdateOne; w=majority, j=True, retryWrites=false")
    if "hub" in opts.phases or "idle" in opts.phases:
        lines.append(f"  hub          {opts.consultations} residents + {opts.consultations} doctors + "
                     f"{opts.consultations} consultations; closed-loop windows {opts.windows} for "
                     f"{opts.sat_secs:g} s each, then half of saturation for {opts.half_secs:g} s")
    if "idle" in opts.phases:
        lines.append(f"  idle         {opts.idle:,} authenticated sockets, VmRSS {opts.idle_settle:g} s after the "
                     f"last connected")
    return lines


def _meminfo_total_gib() -> float:
    with open("/proc/meminfo") as fh:
        return int(fh.readline().split()[1]) / 1024 / 1024


def figure_lines(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    relay = results.get("relay")
    if relay:
        lines += [
            f"1. Socket ceiling (bare Tornado relay, {relay['pairs']} pairs)",
            f"   saturation  {relay['sat_rate']:9,.0f} msg/s  (closed loop, {relay['window']} in flight per pair)  "
            f"latency {lat_text(relay['sat_lat'])}; {cpu_text(relay['sat_cpu'])}",
            f"   half load   {relay['half_rate']:9,.0f} msg/s  (open loop, offered {relay['half_offered']:,.0f})"
            f"{'' if relay['half_kept_up'] else ' OVERLOADED'}  latency {lat_text(relay['half_lat'])}; "
            f"{cpu_text(relay['half_cpu'])}",
        ]
    storage = results.get("storage")
    if storage:
        lines += [f"2. Storage ceiling (fresh SecantusDB, --sync-on-commit, {storage['uri_options']})"]
        for key, label in (("insert_one", "insert_one one by one"), ("insert_many_100", "insert_many by 100"),
                           ("insert_many_500", "insert_many by 500")):
            lines.append(f"   {label:24} {storage[key]:9,.0f} docs/s; {cpu_text(storage[key + '_cpu'])}")
        lines.append(f"   {'bulk_write UpdateOne':24} {storage['bulk_update']:9,.0f} ops/s "
                     f"({storage['bulk_update_batch']} per call: the hub's conversation-summary write); "
                     f"{cpu_text(storage['bulk_update_cpu'])}")
    hub = results.get("hub")
    if hub and "phases" in hub:
        lines.append("3. The hub end to end (python -m hub, signing plugin, one process, embedded SecantusDB)")
        lines.append("   settings: " + " ".join(f"{k}={v}" for k, v in sorted(hub["hub_env"].items())))
        for phase in hub["phases"]:
            label = (f"window {phase['window']:<3}" if phase["mode"] == "closed"
                     else f"half load (offered {phase['offered']:,.0f}/s)"
                     + ("" if phase["kept_up"] else " OVERLOADED"))
            lines.append(f"   {label}: delivered {phase['rate']:7,.0f} msg/s, acked {phase['acks']:7,.0f}/s")
            lines.append(f"      ack      {lat_text(phase['ack_lat'])}")
            lines.append(f"      delivery {lat_text(phase['del_lat'])}")
            lines.append(f"      {cpu_text(phase['cpu'])}")
        check, stored = hub["check"], hub["db_check"]
        lines.append(f"   saturation {hub['saturation']:,.0f} msg/s delivered; checked: {check['acked']:,} acked, "
                     f"{check['delivered']:,} delivered once each, seq gap-free per conversation, "
                     f"{stored['stored']:,} stored, {check['out_of_order']} delivered out of seq order; "
                     f"conversation heads {'caught up' if not stored['heads_wrong'] else 'STILL BEHIND'} "
                     f"{stored['heads_secs']:.1f} s after the load")
        lines.append(f"   logins {hub['logins_per_s']:.0f}/s; hub VmRSS ready {hub['rss_ready_kb'] / 1024:.1f} MiB, "
                     f"peak {hub['rss_peak_kb'] / 1024:.1f} MiB, end {hub['rss_end_kb'] / 1024:.1f} MiB; hub open "
                     f"files limit {hub['hub_nofile']}")
    idle = (hub or {}).get("idle")
    if idle:
        lines.append(f"4. Memory per idle connection ({idle['count']:,} authenticated sockets, connected in "
                     f"{idle['connect_secs']:.1f} s)")
        lines.append(f"   hub VmRSS {idle['before_kb'] / 1024:.1f} MiB → {idle['after_kb'] / 1024:.1f} MiB: "
                     f"{idle['per_conn_kb']:.1f} KiB per connection "
                     f"(after closing them: {idle['after_close_kb'] / 1024:.1f} MiB)")
    return lines


def ratio_lines(results: dict[str, Any]) -> list[str]:
    relay, storage, hub = results.get("relay"), results.get("storage"), results.get("hub") or {}
    lines = ["Ratios and targets"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    if "saturation" in hub and storage:
        ratio = hub["saturation"] / storage["insert_one"]
        lines.append(f"   hub delivered ÷ database insert_one rate  {ratio:5.2f}×  "
                     f"({hub['saturation']:,.0f} / {storage['insert_one']:,.0f}; target ≥ 2×: {verdict(ratio >= 2)})")
    if "saturation" in hub and relay:
        ratio = hub["saturation"] / relay["sat_rate"]
        lines.append(f"   hub delivered ÷ bare relay                 {ratio:5.2f}×  "
                     f"({hub['saturation']:,.0f} / {relay['sat_rate']:,.0f})")
    if "phases" in hub:
        half = hub["phases"][-1]
        p99 = half["ack_lat"]["p99"]
        lines.append(f"   p99 ack latency at half load             {p99:6.1f} ms "
                     f"(target < 100 ms: {verdict(p99 < 100 and half['kept_up'])})")
    if "idle" in hub:
        per = hub["idle"]["per_conn_kb"]
        lines.append(f"   memory per idle connection               {per:6.1f} KiB "
                     f"(target < 30 KB: {verdict(per < 30)})")
    return lines


# -- main ----------------------------------------------------------------------------------------------------------


PHASES = ("relay", "storage", "idle", "hub")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.hub", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short run (~1.5 minutes): shorter windows, one closed-loop run, 2,000 idle sockets")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="parts to run, comma-separated [relay,storage,idle,hub]")
    parser.add_argument("--pairs", type=int, default=200, help="relay client pairs [200]")
    parser.add_argument("--relay-window", type=int, default=8,
                        help="relay messages in flight per pair, closed loop [8]")
    parser.add_argument("--relay-nagle", action="store_true",
                        help="leave Nagle's algorithm on in the relay (Tornado's default) instead of TCP_NODELAY")
    parser.add_argument("--relay-secs", type=float, help="relay measuring window, each of two [default 10; quick 4]")
    parser.add_argument("--storage-secs", type=float, help="seconds per storage measurement [default 6; quick 2.5]")
    parser.add_argument("--consultations", type=int, default=200,
                        help="residents, doctors and consultations on the hub [200]")
    parser.add_argument("--windows", help="closed-loop un-acked sends per resident, comma-separated; the best gives "
                                          "the saturation [default 1,4; quick 1]")
    parser.add_argument("--sat-secs", type=float, help="measuring window per closed-loop run [default 15; quick 6]")
    parser.add_argument("--half-secs", type=float, help="measuring window at half load [default 20; quick 8]")
    parser.add_argument("--open-rate", type=float,
                        help="offer this many msg/s in the hub's open-loop run instead of half the saturation")
    parser.add_argument("--warmup", type=float, help="warm-up before each measuring window [default 3; quick 2]")
    parser.add_argument("--idle", type=int, help="idle sockets for the memory figure [default 5000; quick 2000]")
    parser.add_argument("--idle-settle", type=float, default=2.0, help="seconds before reading VmRSS [2]")
    parser.add_argument("--hub-env", action="append", default=[], metavar="HUB_X=V",
                        help="extra environment for the hub process (repeatable); other inherited HUB_* are dropped")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the hub and the database during the first closed-loop window (perturbs it)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, databases, profiles)")
    parser.add_argument("--serve-relay", type=int, metavar="PORT", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    defaults = ({"relay_secs": 4, "storage_secs": 2.5, "windows": "1", "sat_secs": 6, "half_secs": 8, "warmup": 2,
                 "idle": 2000} if opts.quick else
                {"relay_secs": 10, "storage_secs": 6, "windows": "1,4", "sat_secs": 15, "half_secs": 20, "warmup": 3,
                 "idle": 5000})
    for key, value in defaults.items():
        if getattr(opts, key) is None:
            setattr(opts, key, value)
    opts.windows = [int(w) for w in str(opts.windows).split(",") if w.strip()]
    opts.phases = [p.strip() for p in opts.phases.split(",") if p.strip()]
    unknown = set(opts.phases) - set(PHASES)
    if unknown or not opts.windows or min(opts.windows) < 1:
        parser.error(f"bad --phases {sorted(unknown)} or --windows")
    return opts


async def run(opts: argparse.Namespace, texts: list[str], children: Children) -> dict[str, Any]:
    main_task = asyncio.current_task()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)  # type: ignore[union-attr]
    results: dict[str, Any] = {}
    try:
        if "relay" in opts.phases:
            results["relay"] = await bench_relay(opts, [t.encode() for t in texts], children)
        if "storage" in opts.phases:
            results["storage"] = await bench_storage(opts, texts, children)
        if "hub" in opts.phases or "idle" in opts.phases:
            results["hub"] = await bench_hub(opts, texts, children)
    finally:
        for ws in list(SOCKETS):
            ws.abort()
    return results


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.serve_relay:
        serve_relay(opts.serve_relay, nodelay=not opts.relay_nagle)
        return 0
    nofile = raise_nofile()
    try:
        texts, data_path = load_texts()
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    children = Children(folder)
    failed = False
    try:
        print("\n".join(setup_lines(opts, texts, data_path, nofile)), flush=True)
        results = asyncio.run(run(opts, texts, children))
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        failed = True
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\ninterrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        children.stop_all()
        if opts.keep:
            print(f"working folder kept: {folder}", file=sys.stderr)
        elif failed or PROBLEMS:  # keep the logs and dumps, not the databases (tens to hundreds of MB)
            for path in folder.glob("*-db"):
                shutil.rmtree(path, ignore_errors=True)
            print(f"logs kept in {folder} (--keep keeps the databases too)", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print()
    print("\n".join(figure_lines(results)))
    print()
    print("\n".join(ratio_lines(results)))
    if results.get("hub", {}).get("profile"):
        print()
        print("\n".join(results["hub"]["profile"]))
    print()
    if OTHERS and max(OTHERS) > 15:
        print(f"WARNING: other processes on this machine used {sum(OTHERS) / len(OTHERS):.0f}% CPU on average "
              f"(up to {max(OTHERS):.0f}%) during the measured windows: the figures above are pessimistic.")
    print(f"total time {perf() - STARTED:.0f} s")
    if PROBLEMS:
        print("CORRECTNESS FAILED:")
        print("\n".join(PROBLEMS.lines()))
        return 1
    print("correctness: every acked message delivered exactly once, seq gap-free, all stored" if
          "hub" in opts.phases else "correctness: no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
