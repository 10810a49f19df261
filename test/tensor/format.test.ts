// Checks formatTensor against repr() strings PyTorch 1.13 produced
// (scripts/make_format_fixtures.py writes test/fixtures/format.json; nothing here is hand-typed).

import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";

import { formatTensor } from "../../src/tensor/format.js";

type Value = number | "nan" | "inf" | "-inf";
interface Case {
  name: string;
  shape: number[];
  dtype: "float32" | "float64" | "int32";
  values: Value[];
  extras: string[];
  expected: string;
}

const fixture = JSON.parse(readFileSync(new URL("../fixtures/format.json", import.meta.url), "utf8")) as {
  cases: Case[];
};

const decode = (v: Value): number => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v);

for (const c of fixture.cases) {
  test(`formatTensor: ${c.name}`, () => {
    const got = formatTensor(c.values.map(decode), c.shape, c.dtype, c.extras);
    assert.equal(got, c.expected);
  });
}

test("formatTensor: refuses a values/shape mismatch", () => {
  assert.throws(() => formatTensor([1, 2, 3], [2, 2], "float32", []), {
    name: "DescentError",
  });
});
