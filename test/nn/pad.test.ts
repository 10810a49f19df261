// nn.functional.pad: every pad case of test/fixtures/ops_b.json (scripts/fixtures_ops_b.py, PyTorch
// 1.13; constant with values and cropping, reflect/replicate/circular on 1-3 dims, batched and
// unbatched, transposed and sliced inputs, float32 and float64) replayed through checkOp with its
// dtype-default tolerances; float64 gradient checks of every mode (the padded positions' gradients
// accumulate into their sources); the errors PyTorch raises, with the op and shapes named.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DescentError, nn, randn, type Tensor } from "../../src/index.js";
import { checkOp, loadFixtures } from "../helpers/checkOp.js";
import { dtensor, gradcheck } from "../helpers/gradcheck.js";
import { viewed } from "../helpers/fixture_views.js";

const { pad } = nn.functional;
type PadArgs = { pad: number[]; mode?: "constant" | "reflect" | "replicate" | "circular"; value?: number };

describe("ops_b.json: pad", () => {
  for (const c of loadFixtures("ops_b.json").cases.filter((c) => c.op === "pad")) {
    const { pad: p, ...opts } = c.args as PadArgs; // pad is positional; the rest are pad's options
    test(c.name, () => checkOp(c, (x) => pad(viewed(x!, c.inputs[0]!.view), p, opts)));
  }
});

describe("pad gradcheck (float64)", () => {
  const cases: [string, number[], number[], PadArgs["mode"]][] = [
    ["constant with cropping", [2, 3, 4], [1, -1, -1, 2], "constant"],
    ["reflect 2 dims", [1, 3, 4], [2, 3, 1, 2], "reflect"],
    ["reflect with cropping", [2, 5], [-1, 3], "reflect"],
    ["replicate with cropping", [1, 3, 4], [2, -3, -1, 1], "replicate"],
    ["replicate past the size", [1, 2, 3], [4, 2], "replicate"],
    ["circular 2 dims", [1, 1, 2, 3], [3, 1, 2, 0], "circular"],
    ["reflect 3 dims unbatched", [1, 2, 2, 3], [1, 1, 1, 0, 1, 0], "reflect"],
  ];
  for (const [name, shape, p, mode] of cases)
    test(name, () => gradcheck((x) => pad(x!, p, { mode, value: mode === "constant" ? 0.5 : 0 }), [dtensor(shape)]));
  test("transposed input", () =>
    gradcheck((x) => pad(x!.transpose(1, 2), [2, 1], { mode: "reflect" }), [dtensor([1, 4, 3])]));
});

describe("pad: the NCHW constant case", () => {
  test("is one op (a fill and a strided copy), its gradient a view", () => {
    const x = randn([2, 3, 4, 5]).requiresGrad_(true);
    const y = pad(x, [1, 1, 2, 2]);
    assert.equal(y.gradFn?.name, "pad");
    assert.deepEqual(y.shape, [2, 3, 8, 7]);
  });
  test("returns a new tensor when nothing is padded", () => {
    const x = randn([2, 3]);
    const y = pad(x, [0, 0], { mode: "constant" });
    assert.notEqual(y, x);
    assert.deepEqual(y.toArray(), x.toArray());
  });
});

describe("pad: errors", () => {
  const x3 = randn([1, 2, 4]);
  const cases: [string, () => Tensor, RegExp][] = [
    ["odd length", () => pad(x3, [1, 1, 1]), /pad: .*pairs.*odd length.*input \[1, ?2, ?4\]/],
    ["too many pairs", () => pad(x3, [1, 1, 1, 1, 1, 1, 1, 1]), /pad: 4 pairs pad more dims than the input has/],
    ["not integers", () => pad(x3, [1.5, 1]), /pad: pad must be an array of integers/],
    ["unknown mode", () => pad(x3, [1, 1], { mode: "foo" as "reflect" }), /pad: unknown mode "foo"/],
    [
      "value with reflect",
      () => pad(x3, [1, 1], { mode: "replicate", value: 1 }),
      /pad: mode "replicate" takes no value/,
    ],
    [
      "reflect 1-D input",
      () => pad(randn([3]), [1, 1], { mode: "reflect" }),
      /pad: mode "reflect" pads the last 1, 2 or 3 dims.*input \[3\]/,
    ],
    [
      "replicate 2 dims of a 2-D input",
      () => pad(randn([3, 4]), [1, 1, 1, 1], { mode: "replicate" }),
      /pad: mode "replicate".*\[3, ?4\]/,
    ],
    [
      "circular unbatched",
      () => pad(randn([2, 4]), [1, 1], { mode: "circular" }),
      /pad: mode "circular".*batch, channel.*\[2, ?4\]/,
    ],
    [
      "reflect as large as the dim",
      () => pad(x3, [4, 1], { mode: "reflect" }),
      /pad: reflect padding must be less than the dim's size: \(4, 1\) for dim 2 of size 4/,
    ],
    [
      "circular wraps twice",
      () => pad(x3, [5, 4], { mode: "circular" }),
      /pad: circular padding must be at most the size left after cropping \(4\).*\(5, 4\) for dim 2 of size 4/,
    ],
    [
      "constant crops too much",
      () => pad(x3, [-3, -2]),
      /pad: negative padding crops more than the dim holds.*\[1, ?2, ?-1\]/,
    ],
    [
      "replicate of an empty dim",
      () => pad(randn([1, 1, 0]), [1, 1], { mode: "replicate" }),
      /pad: mode "replicate" cannot pad dim 2 of size 0/,
    ],
    [
      "reflect crops everything",
      () => pad(x3, [-4, 0], { mode: "reflect" }),
      /pad: padding leaves 0 elements: \(-4, 0\) for dim 2 of size 4/,
    ],
  ];
  for (const [name, f, re] of cases)
    test(name, () =>
      assert.throws(f, (e: unknown) => (e instanceof DescentError && re.test(e.message)) || assert.fail(String(e))),
    );
});
