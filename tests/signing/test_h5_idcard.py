"""The H5 pages' ID-number check (``plugins/signing/static/h5/idcard.js``) agrees with the hub's
(``hub.roster.idcard.parse_id_number``): the same numbers pass, the same mistakes get the same message."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from hub import InvalidInput
from hub.roster.idcard import make_id_number, parse_id_number

MODULE = Path(__file__).parents[2] / "plugins" / "signing" / "static" / "h5" / "idcard.js"


def hub_message(number: str) -> str:
    try:
        parse_id_number(number)
    except InvalidInput as exc:
        return exc.message
    return ""


def cases() -> list[str]:
    good = [make_id_number("330522", date(1956, 5, 12), n) for n in range(11, 30)]
    good.append(next(g for n in range(1000) if (g := make_id_number("110101", date(1990, 1, 1), n)).endswith("X")))
    wrong_digit = [g[:17] + next(c for c in "0123456789X" if c != g[17]) for g in good]
    first17 = "33052219560230011"  # 30 February
    return [*good, *wrong_digit, first17 + "0", "33052219560512011", "3305221956051201155", "33052219560512011x",
            "33052219560512O115", "330522 19560512 0115", "３３０５２２１９５６０５１２０１１５", "", "X",
            "330522299905120115", "330522187912310115"]


def js_messages(numbers: list[str], partial: bool = False) -> dict[str, str]:
    if shutil.which("node") is None:
        pytest.fail("node is needed for the client tests")
    script = (f"import('{MODULE.as_uri()}').then((m) => console.log(JSON.stringify("
              f"{json.dumps(numbers)}.map((n) => m.idNumberError(n, {{partial: {json.dumps(partial)}}})))))")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    return dict(zip(numbers, json.loads(out.stdout), strict=True))


def test_js_check_matches_the_hub() -> None:
    numbers = cases()
    assert js_messages(numbers) == {n: hub_message(n) for n in numbers}


def test_js_check_as_typed() -> None:
    """Typing: a short number is no error yet; a wrong character or an impossible birth date shows at once; a
    whole number gets the whole check."""
    good = make_id_number("330522", date(1956, 5, 12), 11)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert js_messages(["", "3305", good[:16], "33a", "X", "33052219561301", good, wrong], partial=True) == {
        "": "", "3305": "", good[:16]: "", "33a": "身份证号只能由数字和末位 X 组成",
        "X": "身份证号只能由数字和末位 X 组成",
        "33052219561301": "身份证号中的出生日期无效", good: "", wrong: "身份证号校验位不正确"}
