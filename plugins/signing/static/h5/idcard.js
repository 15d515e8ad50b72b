// Resident ID numbers (GB 11643-1999) checked as they are typed: the same rules, in the same order and with the
// same messages, as the hub's hub/roster/idcard.py (the hub checks again on save).
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = "10X98765432";

export function normaliseIdNumber(raw) {
  return String(raw || "").normalize("NFKC").trim().toUpperCase();
}

export function checkChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

function birthError(number, today) {
  const y = Number(number.slice(6, 10)), m = Number(number.slice(10, 12)), d = Number(number.slice(12, 14));
  const born = new Date(y, m - 1, d);
  const real = born.getFullYear() === y && born.getMonth() === m - 1 && born.getDate() === d;
  return real && y >= 1880 && born <= today ? "" : "身份证号中的出生日期无效";
}

// "" when the number is valid, else what is wrong — in the hub's order. While typing (``partial``), a number that
// is only short but has no mistake so far is not an error, and a wrong character shows at once.
export function idNumberError(raw, { partial = false, today = new Date() } = {}) {
  const number = normaliseIdNumber(raw);
  if (partial) {
    if (!number) return "";
    if (number.length > 18) return "身份证号应为 18 位";
    if (!/^[0-9]*$/.test(number.slice(0, 17)) || !/^[0-9X]?$/.test(number.slice(17))) {
      return "身份证号只能由数字和末位 X 组成";
    }
    if (number.length >= 14 && birthError(number, today)) return birthError(number, today);
    return number.length < 18 ? "" : idNumberError(number, { today });
  }
  if (!number) return "身份证号必填";
  if (number.length !== 18) return "身份证号应为 18 位";
  if (!/^[0-9]{17}[0-9X]$/.test(number)) return "身份证号只能由数字和末位 X 组成";
  if (birthError(number, today)) return "身份证号中的出生日期无效";
  if (checkChar(number.slice(0, 17)) !== number[17]) return "身份证号校验位不正确";
  return "";
}
