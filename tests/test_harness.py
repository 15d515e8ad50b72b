"""The test harness itself: what a missing need does under CI and elsewhere, and how a server that never listens
is reported (``hub.testing``, ``tests/support.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.testing import free_port, wait_for_port
from tests.support import api, in_ci, require_or_skip, wait_for


@pytest.mark.parametrize(("value", "ci"), [("true", True), ("1", True), ("", False), ("false", False), ("0", False)])
def test_ci_is_told_by_the_ci_variable(monkeypatch: pytest.MonkeyPatch, value: str, ci: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is ci


def test_a_missing_need_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert require_or_skip("Chromium", True) is True
    with pytest.raises(pytest.fail.Exception, match=r"Chromium at /x is missing \(apt-get install chromium\); CI must"):
        require_or_skip("Chromium at /x", False, "apt-get install chromium")
    with pytest.raises(pytest.fail.Exception, match="the shared lexicon is missing"):
        require_or_skip("the shared lexicon", False, otherwise="the sample")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="Redis is missing"):
        require_or_skip("Redis", False)
    assert require_or_skip("the shared lexicon", False, otherwise="the sample") is False


def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-c", "print('bad setting: port'); raise SystemExit(3)"],
                                   stdout=out, stderr=subprocess.STDOUT)
    with pytest.raises(RuntimeError, match=r"(?s)toy exited with 3 before listening.*bad setting: port"):
        wait_for_port(free_port(), 20, process, "toy", log)


def test_nothing_listening_is_reported_after_the_timeout() -> None:
    with pytest.raises(RuntimeError, match="did not listen on port"):
        wait_for_port(free_port(), 0.2)


async def test_wait_for_fails_naming_what_never_happened() -> None:
    with pytest.raises(AssertionError, match="the moon turned blue: not within 0 s"):
        await wait_for(lambda: False, "the moon turned blue", timeout=0.1)
    seen = []

    async def third_time() -> bool:
        seen.append(1)
        return len(seen) >= 3

    await wait_for(third_time, "a third look")
    assert len(seen) == 3


async def test_fixture_tokens_are_the_hubs_own(hub) -> None:
    """The cast's tokens are minted, not logged in for: no login is audited, and each works like a login's."""
    status, me = await api(hub.url, "GET", "/api/me", hub.users["doctor"]["token"])
    assert status == 200 and me["id"] == hub.users["doctor"]["_id"], me
    assert await hub.hub.db.audit.count_documents({"action": "auth.login"}) == 0
