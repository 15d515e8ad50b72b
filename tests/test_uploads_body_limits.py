"""Request bodies: each endpoint's limit is applied from the headers, before the body is read, and a chunked body
is cut off at it; uploads have their own, larger limits."""

from __future__ import annotations

import asyncio
import contextlib

from handlers.base import MAX_JSON_BODY_BYTES
from handlers.supervision import MAX_IMPORT_BYTES
from tests.support import RunningHub, api

MiB = 1024 * 1024


async def _status_line(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readline(), 30)  # only stops a hang; the answer comes at once


async def declared(hub: RunningHub, path: str, length: int, token: str | None = None) -> bytes:
    """Send only the headers of a request declaring ``length`` bytes; return the status line answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}"
                 f"Content-Length: {length}\r\n\r\n".encode())
    await writer.drain()
    try:
        return await _status_line(reader)
    finally:
        writer.close()


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(hub: RunningHub) -> None:
    # The old hub waited for all 100 MB (its server limit was 100 MiB), so nothing came back.
    assert b" 413 " in await declared(hub, "/api/auth/token", 100_000_000)
    assert b" 413 " in await declared(hub, "/api/auth/token", MAX_JSON_BODY_BYTES + 1)
    supervisor = hub.users["supervisor"]["token"]
    assert b" 413 " in await declared(hub, "/api/sensitive-words/import", MAX_IMPORT_BYTES + 1, supervisor)
    assert b" 413 " in await declared(hub, "/api/nowhere", MAX_JSON_BODY_BYTES + 1)
    # the hub goes on answering
    status, _ = await api(hub.url, "GET", "/healthz")
    assert status == 200


async def test_a_chunked_body_over_the_limit_is_cut_off(hub: RunningHub) -> None:
    """The hub stops reading at the endpoint's limit: the client cannot push 64 MiB (the old hub read it all)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    writer.write(b"POST /api/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
    sent = 0
    try:
        while sent < 64 * MiB:
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), 30)
            sent += 64 * 1024
    except (ConnectionError, TimeoutError):
        pass
    answer = b""
    with contextlib.suppress(ConnectionError):
        answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    assert sent < 32 * MiB, sent  # cut off after 1 MiB and whatever the socket buffers held
    assert b" 200 " not in answer


async def test_each_endpoint_has_its_own_limit(hub: RunningHub) -> None:
    """2 MiB is too much for a JSON endpoint and fine for the word import (which reads it: all bad rows here)."""
    token = hub.users["supervisor"]["token"]
    body = ("=" * 100 + "\n").encode() * (2 * MiB // 101)
    status, data = await api(hub.url, "POST", "/api/sensitive-words", token, raw=body)
    assert status == 413 and data["error"]["code"] == "too_large", data
    assert data["error"]["details"]["limit_bytes"] == MAX_JSON_BODY_BYTES
    status, data = await api(hub.url, "POST", "/api/sensitive-words/import", token, raw=body,
                             headers={"Content-Type": "text/plain"})
    assert status == 400 and data["error"]["code"] == "invalid_input", data
    # an ordinary JSON body and an ordinary upload still work
    status, data = await api(hub.url, "POST", "/api/sensitive-words", token,
                             body={"word": "上传词", "action": "block", "category": "测试"})
    assert status == 201, data
    status, data = await api(hub.url, "POST", "/api/sensitive-words/import", token, raw="导入词\n".encode(),
                             headers={"Content-Type": "text/plain"})
    assert status == 200 and data["created"] == 1, data
