// The run-time options checker of src/core/options.ts: the nearest-key suggestion, the message text,
// refusing options that are not objects, the value helpers, and keysOf's key Set.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DescentError } from "../../src/core/errors.js";
import {
  checkDType,
  checkFinite,
  checkNonNegative,
  checkNonNegativeInt,
  checkOneOf,
  checkOptions,
  checkPositiveInt,
  checkProbability,
  dtypeOption,
  keysOf,
  mergeKeys,
  nearestKey,
} from "../../src/core/options.js";

interface Demo {
  padding?: number;
  stride?: number;
  dilation?: number;
  batchSize?: number;
}
const KEYS = keysOf<Demo>()({ padding: true, stride: true, dilation: true, batchSize: true });

/** The DescentError fn throws, its message checked against re. */
function throwsDescent(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DescentError, `expected a DescentError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

describe("checkOptions", () => {
  test("known keys, an empty object and undefined pass", () => {
    checkOptions("Demo", { padding: 1, stride: 2 }, KEYS);
    checkOptions("Demo", {}, KEYS);
    checkOptions("Demo", undefined, KEYS);
  });

  test("an unknown key is named with the owner and the nearest valid key", () => {
    assert.throws(
      () => checkOptions("Conv2d", { paddng: 1 }, KEYS),
      (e: unknown) =>
        e instanceof DescentError && e.message === "unknown option 'paddng' for Conv2d; did you mean 'padding'?",
    );
  });

  test("Python's snake_case finds the camelCase key", () => {
    throwsDescent(
      () => checkOptions("DataLoader", { batch_size: 4 }, KEYS),
      /'batch_size'.*did you mean 'batchSize'\?/,
    );
  });

  test("nothing near: every valid key is listed, sorted", () => {
    assert.throws(
      () => checkOptions("Demo", { zzzzzzzz: 1 }, KEYS),
      (e: unknown) =>
        e instanceof DescentError &&
        e.message === "unknown option 'zzzzzzzz' for Demo; valid options: batchSize, dilation, padding, stride",
    );
  });

  test("the first unknown key among known ones is reported", () => {
    throwsDescent(() => checkOptions("Demo", { padding: 1, strid: 2 }, KEYS), /unknown option 'strid' .*'stride'/);
  });

  test("a key whose value is undefined is still a typo", () => {
    throwsDescent(() => checkOptions("Demo", { paddin: undefined }, KEYS), /unknown option 'paddin'/);
  });

  for (const [what, v, shown] of [
    ["an array", [1, 2], "an array"],
    ["a number", 3, "number 3"],
    ["a string", "same", 'the string "same"'],
    ["null", null, "null"],
    ["a boolean", true, "boolean true"],
  ] as const) {
    test(`${what} is refused as options`, () => {
      assert.throws(
        () => checkOptions("Conv2d", v, KEYS),
        (e: unknown) => e instanceof DescentError && e.message === `Conv2d: options must be an object, got ${shown}`,
      );
    });
  }
});

describe("nearestKey", () => {
  const keys = ["lr", "momentum", "weightDecay", "nesterov", "dampening"];
  test("one edit away", () => assert.equal(nearestKey("momentun", keys), "momentum"));
  test("case and separators", () => assert.equal(nearestKey("weight_decay", keys), "weightDecay"));
  test("a transposition (two edits) in a long key", () => assert.equal(nearestKey("nestreov", keys), "nesterov"));
  test("short keys allow one edit only", () => {
    assert.equal(nearestKey("lt", keys), "lr");
    assert.equal(nearestKey("xy", keys), undefined);
  });
  test("far from everything: none", () => assert.equal(nearestKey("gamma", keys), undefined));
});

describe("keysOf and mergeKeys", () => {
  test("keysOf gives the interface's keys as a Set", () => {
    assert.deepEqual([...KEYS].sort(), ["batchSize", "dilation", "padding", "stride"]);
  });
  test("mergeKeys is the union", () => {
    assert.deepEqual([...mergeKeys(KEYS, new Set(["signal"]))].sort(), [
      "batchSize",
      "dilation",
      "padding",
      "signal",
      "stride",
    ]);
  });
});

describe("value helpers", () => {
  test("checkPositiveInt", () => {
    checkPositiveInt("Linear", "inFeatures", 3);
    for (const v of [0, -1, 1.5, NaN, Infinity, "3", null])
      throwsDescent(
        () => checkPositiveInt("Linear", "inFeatures", v),
        /^Linear: inFeatures must be an integer ≥ 1, got/,
      );
  });
  test("checkNonNegativeInt", () => {
    checkNonNegativeInt("x", "n", 0);
    for (const v of [-1, 0.5, NaN])
      throwsDescent(() => checkNonNegativeInt("x", "n", v), /^x: n must be a non-negative/);
  });
  test("checkFinite and checkNonNegative", () => {
    checkFinite("StepLR", "gamma", -2);
    throwsDescent(() => checkFinite("StepLR", "gamma", NaN), /^StepLR: gamma must be a finite number, got number NaN/);
    throwsDescent(() => checkNonNegative("GroupNorm", "eps", -1e-5), /^GroupNorm: eps must be a finite number ≥ 0/);
    throwsDescent(() => checkNonNegative("GroupNorm", "eps", Infinity), /eps must be a finite number ≥ 0/);
  });
  test("checkProbability", () => {
    checkProbability("BatchNorm2d", "momentum", 1);
    for (const v of [-0.1, 1.1, NaN, "0.5"])
      throwsDescent(() => checkProbability("BatchNorm2d", "momentum", v), /momentum must be a number in \[0, 1\]/);
  });
  test("checkOneOf lists the allowed values", () => {
    assert.equal(checkOneOf("evaluate", "each metric", "loss", ["loss", "accuracy"]), "loss");
    throwsDescent(
      () => checkOneOf("evaluate", "each metric", "acc", ["loss", "accuracy"]),
      /^evaluate: each metric must be one of "loss", "accuracy", got the string "acc"$/,
    );
  });
  test("checkDType and dtypeOption list the valid dtypes", () => {
    assert.equal(checkDType("to", "float64"), "float64");
    assert.equal(dtypeOption("Linear", undefined), "float32");
    assert.equal(dtypeOption("Linear", undefined, "int32"), "int32");
    for (const v of ["float16", "float", "Float32", 32, null])
      throwsDescent(
        () => dtypeOption("Linear", v),
        /^Linear: unknown dtype .* \(valid dtypes: float32, float64, int32\)$/,
      );
  });
});
