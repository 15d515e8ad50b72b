"""GB 11643-1999 ID numbers: length, birth date, MOD 11-2 check character; masking."""

from __future__ import annotations

from datetime import date

import pytest

from hub import InvalidInput
from hub.roster.idcard import check_char, make_id_number, mask_id_number, mask_phone, parse_id_number


def test_known_valid_number_gives_birth_date_and_sex() -> None:
    parsed = parse_id_number("11010519491231002X")  # the standard's own example
    assert parsed.birth_date == date(1949, 12, 31) and parsed.sex == "female"
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"
    made = make_id_number("330522", date(1990, 1, 1), 13)
    assert parse_id_number(made).sex == "male" and made[-1] == check_char(made[:17])


@pytest.mark.parametrize(("number", "reason"), [
    ("", "missing"), ("1101051949123100", "length"), ("11010519491231002X1", "length"),
    ("1101051949123100AX", "characters"), ("110105194902300021", "birth_date"), ("110105299901010021", "birth_date"),
    ("110105187001010021", "birth_date"), ("110105194912310021", "check_char"),
])
def test_invalid_numbers_name_the_problem(number: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_id_number(number)
    assert caught.value.details["reason"] == reason


def test_masks() -> None:
    assert mask_id_number("330522199001011234") == "3305************34"
    assert mask_phone("13800000001") == "138****0001"
    assert mask_id_number(None) is None and mask_phone("") == ""
