"""Resident ID numbers (居民身份证号码) per GB 11643-1999: 18 characters — a 6-digit address code, an 8-digit
birth date, a 3-digit sequence code (odd for men, even for women) and a check character by ISO 7064 MOD 11-2."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from hub.errors import InvalidInput

ID_NUMBER_LENGTH = 18
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
EARLIEST_BIRTH = date(1880, 1, 1)
SHAPE_RE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII only: other scripts' digits are refused, not read
MASK_HEAD, MASK_TAIL = 4, 2  # characters a masked number shows at each end
MASK_MIN_LENGTH = 12  # shorter (malformed) input is masked whole


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    sex: str  # "male" | "female"


def check_char(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise_id_number(raw: str) -> str:
    """The one spelling of an ID number that is stored and looked up: NFKC (full-width digits and ｘ become ASCII),
    trimmed, upper-case X. Every check and every lookup goes through this, so one person has one number."""
    return unicodedata.normalize("NFKC", raw).strip().upper()


def parse_id_number(raw: object, *, today: date | None = None, field: str = "id_number") -> IdNumber:
    """Check an ID number (length, birth date, check character) and derive birth date and sex from it.
    The number is normalised first (``normalise_id_number``). Raises ``InvalidInput`` naming what is wrong."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("身份证号必填", field=field, reason="missing")
    number = normalise_id_number(raw)
    if len(number) != ID_NUMBER_LENGTH:
        raise InvalidInput("身份证号应为 18 位", field=field, reason="length")
    if not SHAPE_RE.match(number):
        raise InvalidInput("身份证号只能由数字和末位 X 组成", field=field, reason="characters")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput("身份证号中的出生日期无效", field=field, reason="birth_date") from None
    if not EARLIEST_BIRTH <= born <= (today or date.today()):
        raise InvalidInput("身份证号中的出生日期无效", field=field, reason="birth_date")
    if check_char(number[:17]) != number[17]:
        raise InvalidInput("身份证号校验位不正确", field=field, reason="check_char")
    return IdNumber(number, born, "male" if int(number[16]) % 2 else "female")


def make_id_number(address: str, born: date, sequence: int) -> str:
    """A valid ID number for an address code, a birth date and a 3-digit sequence (demo data and tests)."""
    first17 = f"{address[:6]}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)


def mask_id_number(number: str | None) -> str | None:
    """``330522199001011234`` → ``3305************34``: the province and city, and the last two characters.

    The hidden part must carry information that nothing shown beside it restores. The county code follows from
    the resident's village and the birth date from an age to within a year, so what stays hidden is the birth
    day (~365 values) and the first two sequence digits (100); the check character, shown, removes a factor of
    11: about 3,300 numbers fit any one list row (README, "Masking"). Four shown characters (the old mask) left
    ~33, and with a birth date beside them exactly one."""
    if not number:
        return number
    if len(number) < MASK_MIN_LENGTH:
        return "*" * len(number)
    return number[:MASK_HEAD] + "*" * (len(number) - MASK_HEAD - MASK_TAIL) + number[-MASK_TAIL:]


def mask_phone(phone: str | None) -> str | None:
    """``13800000001`` → ``138****0001``."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)
