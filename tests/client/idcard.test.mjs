// node --test tests/client/idcard.test.mjs — the browser's ID-number checks (plugins/signing/static/idcard.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { checkChar, checkIdNumber, normaliseIdNumber, typingProblem } from "../../plugins/signing/static/idcard.js";

const TODAY = new Date(2026, 11, 3);

function make(first17) {
  return first17 + checkChar(first17);
}

test("a valid number gives its birth date and sex", () => {
  const number = make("33052219600401011");
  const found = checkIdNumber(number, { today: TODAY });
  assert.equal(found.ok, true);
  assert.equal(found.birthDate, "1960-04-01");
  assert.equal(found.sex, "male");
  assert.equal(checkIdNumber(make("33052219600401012"), { today: TODAY }).sex, "female");
});

test("the check character of a known number", () => {
  assert.equal(checkChar("11010519491231002"), "X");
  assert.equal(checkIdNumber("11010519491231002x", { today: TODAY }).ok, true);
});

test("each rule names its reason and message", () => {
  const good = make("33052219600401011");
  const wrong = good.slice(0, 17) + (good[17] === "1" ? "2" : "1");
  const cases = [
    ["", "missing", "身份证号必填"],
    ["  ", "missing", "身份证号必填"],
    [good.slice(0, 17), "length", "身份证号应为 18 位"],
    [good + "1", "length", "身份证号应为 18 位"],
    ["3305221960040101A1", "characters", "身份证号只能由数字和末位 X 组成"],
    [make("33052219600231011"), "birth_date", "身份证号中的出生日期无效"],
    [make("33052218791231011"), "birth_date", "身份证号中的出生日期无效"],
    [make("33052220270101011"), "birth_date", "身份证号中的出生日期无效"],
    [wrong, "check_char", "身份证号校验位不正确"],
  ];
  for (const [raw, reason, message] of cases) {
    const found = checkIdNumber(raw, { today: TODAY });
    assert.equal(found.ok, false, raw);
    assert.equal(found.reason, reason, raw);
    assert.equal(found.message, message, raw);
  }
});

test("full-width digits, spaces and a small x are normalised as on the server", () => {
  const good = make("11010519491231002");
  const wide = [...good].map((c) => (c === "X" ? "ｘ" : String.fromCharCode(c.charCodeAt(0) + 0xfee0))).join("");
  assert.equal(normaliseIdNumber(` ${wide}　`), good);
  assert.equal(checkIdNumber(` ${wide} `, { today: TODAY }).number, good);
});

test("while typing: nothing until something can no longer become valid", () => {
  const good = make("33052219600401011");
  for (let n = 0; n < 18; n += 1) assert.equal(typingProblem(good.slice(0, n), { today: TODAY }), null, String(n));
  assert.equal(typingProblem(good, { today: TODAY }), null);
  assert.equal(typingProblem("3305X", { today: TODAY }).reason, "characters");
  assert.equal(typingProblem("33052219601301", { today: TODAY }).reason, "birth_date");
  assert.equal(typingProblem(good.slice(0, 17) + "0", { today: TODAY })?.reason ?? "ok",
    good[17] === "0" ? "ok" : "check_char");
  assert.equal(typingProblem(good + "9", { today: TODAY }).reason, "length");
});

test("a leap day is a real birth date only in a leap year", () => {
  assert.equal(checkIdNumber(make("33052220000229011"), { today: TODAY }).ok, true);
  assert.equal(checkIdNumber(make("33052219000229011"), { today: TODAY }).reason, "birth_date");
});
