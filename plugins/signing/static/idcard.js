// Resident ID numbers (居民身份证号码, GB 11643-1999) checked in the browser as the user types: the same rules,
// messages and reasons as hub/roster/idcard.py (parse_id_number). The server stays the authority; this module only
// lets a form say what is wrong before it is sent. Plain ES module, no DOM: the console and the H5 app share it.

export const ID_NUMBER_LENGTH = 18;
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = "10X98765432"; // indexed by (weighted sum mod 11)
const EARLIEST_BIRTH = "18800101";
const SHAPE_RE = /^[0-9]{17}[0-9X]$/;

export const MESSAGES = {
  missing: "身份证号必填",
  length: "身份证号应为 18 位",
  characters: "身份证号只能由数字和末位 X 组成",
  birth_date: "身份证号中的出生日期无效",
  check_char: "身份证号校验位不正确",
};

/** The MOD 11-2 check character of the first 17 digits. */
export function checkChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

/** The one spelling that is stored: NFKC (full-width digits and ｘ become ASCII), trimmed, upper-case X. */
export function normaliseIdNumber(raw) {
  return String(raw).normalize("NFKC").trim().toUpperCase();
}

function pad(n, width) {
  return String(n).padStart(width, "0");
}

function todayDigits(today) {
  const d = today || new Date();
  return `${pad(d.getFullYear(), 4)}${pad(d.getMonth() + 1, 2)}${pad(d.getDate(), 2)}`;
}

/** Whether YYYYMMDD is a real calendar day (year 1 to 9999, like Python's date). */
function isRealDay(digits) {
  const year = Number(digits.slice(0, 4));
  const month = Number(digits.slice(4, 6));
  const day = Number(digits.slice(6, 8));
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

function problem(reason) {
  return { ok: false, reason, message: MESSAGES[reason] };
}

/**
 * Check a whole ID number. Returns {ok: true, number, birthDate: "YYYY-MM-DD", sex: "male"|"female"} or
 * {ok: false, reason, message} with the reason codes of the server (missing, length, characters, birth_date,
 * check_char), checked in the server's order.
 */
export function checkIdNumber(raw, { today } = {}) {
  if (typeof raw !== "string" || !raw.trim()) return problem("missing");
  const number = normaliseIdNumber(raw);
  if ([...number].length !== ID_NUMBER_LENGTH) return problem("length");
  if (!SHAPE_RE.test(number)) return problem("characters");
  const born = number.slice(6, 14);
  if (!isRealDay(born) || born < EARLIEST_BIRTH || born > todayDigits(today)) return problem("birth_date");
  if (checkChar(number.slice(0, 17)) !== number[17]) return problem("check_char");
  return {
    ok: true,
    number,
    birthDate: `${born.slice(0, 4)}-${born.slice(4, 6)}-${born.slice(6, 8)}`,
    sex: Number(number[16]) % 2 ? "male" : "female",
  };
}

/**
 * What is already wrong with a number still being typed, or null while it may still become valid: a character
 * that can never fit, more than 18 characters, an impossible birth date once its 8 digits are in. A whole
 * (18-character) number gets the full check.
 */
export function typingProblem(raw, { today } = {}) {
  if (typeof raw !== "string" || !raw.trim()) return null;
  const number = normaliseIdNumber(raw);
  const length = [...number].length;
  if (length === ID_NUMBER_LENGTH) {
    const found = checkIdNumber(raw, { today });
    return found.ok ? null : found;
  }
  if (length > ID_NUMBER_LENGTH) return problem("length");
  if (!/^[0-9]*$/.test(number)) return problem("characters");
  if (length >= 14) {
    const born = number.slice(6, 14);
    if (!isRealDay(born) || born < EARLIEST_BIRTH || born > todayDigits(today)) return problem("birth_date");
  }
  return null;
}
