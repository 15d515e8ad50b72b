"""The browser's ID-number checks (plugins/signing/static/idcard.js): its node tests, and agreement with the
server's rules (hub.roster.idcard.parse_id_number) on a few hundred generated numbers."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from hub.errors import InvalidInput
from hub.roster.idcard import check_char, make_id_number, parse_id_number
from tests.support import require_or_skip

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "plugins" / "signing" / "static" / "idcard.js"
NODE_TEST = ROOT / "tests" / "client" / "idcard.test.mjs"
TODAY = date(2026, 12, 3)
NODE = shutil.which("node")



@pytest.fixture(autouse=True)
def _node() -> None:
    require_or_skip("node", NODE is not None, "apt-get install nodejs")


def test_node_tests_pass() -> None:
    done = subprocess.run([NODE or "node", "--test", str(NODE_TEST)], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def server_answer(raw: str) -> dict[str, object]:
    try:
        found = parse_id_number(raw, today=TODAY)
    except InvalidInput as exc:
        return {"ok": False, "reason": exc.details["reason"], "message": exc.message}
    return {"ok": True, "number": found.number, "birthDate": found.birth_date.isoformat(), "sex": found.sex}


def generated(count: int) -> list[str]:
    """Valid numbers and every way of spoiling one: a wrong check character, an impossible or out-of-range
    birth date, a wrong length, a stray character, full-width digits, a small x, spaces around."""
    rng = random.Random(20261203)
    numbers: list[str] = []
    for _ in range(count):
        born = date(1880, 1, 1) + timedelta(days=rng.randrange((TODAY - date(1880, 1, 1)).days + 400))
        good = make_id_number(f"{rng.randrange(110000, 660000)}", born, rng.randrange(1000))
        kind = rng.randrange(9)
        if kind == 1:
            good = good[:17] + rng.choice([c for c in "0123456789X" if c != good[17]])
        elif kind == 2:
            first17 = good[:10] + rng.choice(["1302", "0230", "0431", "0001", "0000", "0229"]) + good[14:17]
            good = first17 + check_char(first17)
        elif kind == 3:
            good = good[: rng.randrange(1, 18)] if rng.random() < 0.5 else good + str(rng.randrange(10))
        elif kind == 4:
            spot = rng.randrange(17)
            good = good[:spot] + rng.choice("AxX-.") + good[spot + 1:]
        elif kind == 5:
            good = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "ｘ" for c in good)
        elif kind == 6:
            good = good.lower()
        elif kind == 7:
            good = rng.choice([" ", "\t", "\u3000"]) + good + rng.choice(["", " ", "\n"])
        numbers.append(good)
    return [*numbers, "", "   ", "11010519491231002x", "000000000000000000"]


def test_browser_and_server_agree() -> None:
    numbers = generated(400)
    script = (f"import {{ checkIdNumber }} from {json.dumps(MODULE.as_uri())};\n"
              "let text = ''; process.stdin.on('data', (c) => { text += c; });\n"
              "process.stdin.on('end', () => { const today = new Date(2026, 11, 3);\n"
              "  const out = JSON.parse(text).map((n) => checkIdNumber(n, { today }));\n"
              "  process.stdout.write(JSON.stringify(out)); });\n")
    done = subprocess.run([NODE or "node", "--input-type=module", "-e", script], input=json.dumps(numbers),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    browser = json.loads(done.stdout)
    reasons = set()
    for raw, client in zip(numbers, browser, strict=True):
        server = server_answer(raw)
        reasons.add(server.get("reason", "ok"))
        assert client == server, raw
    assert reasons == {"ok", "missing", "length", "characters", "birth_date", "check_char"}
