// The issue-13 layers beyond the PyTorch fixtures: float64 gradchecks of every functional form
// (contiguous and strided inputs), Dropout1d/2d statistics and eval identity, default init and
// state-dict layout, and the errors for bad arguments.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DescentError, manualSeed, ones, type Tensor } from "../../src/index.js";
import { convTranspose1d, convTranspose2d } from "../../src/nn/functional/conv_transpose.js";
import { interpolate } from "../../src/nn/functional/interpolate.js";
import { groupNorm, instanceNorm } from "../../src/nn/functional/norm.js";
import { dropout1d, dropout2d, pixelShuffle, pixelUnshuffle } from "../../src/nn/functional/channel.js";
import { ConvTranspose1d, ConvTranspose2d } from "../../src/nn/layers/conv_transpose.js";
import { GroupNorm, InstanceNorm2d } from "../../src/nn/layers/norm.js";
import { Dropout1d, Dropout2d, PixelShuffle, Unflatten, Upsample } from "../../src/nn/layers/reshape.js";
import { dtensor, gradcheck } from "../helpers/gradcheck.js";

const d = (shape: number[], seed: number, requiresGrad = true): Tensor => dtensor(shape, { seed, requiresGrad });
/** A float64 leaf with the values of d(shape) but laid out with its last two dims swapped in memory. */
const strided = (shape: number[], seed: number): Tensor => {
  const n = shape.length;
  const swapped = [...shape.slice(0, n - 2), shape[n - 1]!, shape[n - 2]!];
  const t = d(swapped, seed, false).transpose(n - 2, n - 1);
  t.requiresGrad = true;
  return t;
};

describe("gradcheck (float64)", () => {
  test("convTranspose2d stride, padding, outputPadding, dilation, bias", () =>
    gradcheck(
      (x, w, b) => convTranspose2d(x, w, b, { stride: [2, 1], padding: 1, outputPadding: [1, 0], dilation: [1, 2] }),
      [d([1, 2, 3, 3], 1), d([2, 3, 2, 3], 2), d([3], 3)],
    ));
  test("convTranspose2d groups, outputPadding ≥ stride (below dilation), strided input", () =>
    gradcheck(
      (x, w) => convTranspose2d(x, w, null, { stride: 2, dilation: 3, outputPadding: 2, groups: 2 }),
      [strided([1, 4, 2, 3], 4), d([4, 1, 2, 2], 5)],
    ));
  test("convTranspose2d unbatched with outputSize", () =>
    gradcheck(
      (x, w, b) => convTranspose2d(x, w, b, { stride: 3, outputSize: [6, 7] }),
      [d([2, 2, 2], 6), d([2, 2, 2, 2], 7), d([2], 8)],
    ));
  test("convTranspose1d stride, padding, dilation, groups", () =>
    gradcheck(
      (x, w, b) => convTranspose1d(x, w, b, { stride: 2, padding: 1, outputPadding: 1, dilation: 2, groups: 2 }),
      [strided([2, 2, 4], 9), d([2, 2, 3], 10), d([4], 11)],
    ));
  test("groupNorm with affine, strided input", () =>
    gradcheck((x, w, b) => groupNorm(x, 2, w, b, 1e-5), [strided([2, 4, 3, 2], 12), d([4], 13), d([4], 14)]));
  test("instanceNorm with input statistics and with running statistics", () => {
    gradcheck((x, w, b) => instanceNorm(x, null, null, w, b), [d([2, 3, 2, 3], 15), d([3], 16), d([3], 17)]);
    const rm = d([2], 18, false);
    const rv = dtensor([2], { lo: 0.5, hi: 2, requiresGrad: false });
    gradcheck((x) => instanceNorm(x, rm, rv, null, null, false), [strided([2, 2, 3, 3], 19)]);
  });
  test("interpolate nearest 1-D and 2-D (indices repeated and skipped)", () => {
    gradcheck((x) => interpolate(x, { size: 7 }), [d([1, 2, 3], 20)]);
    gradcheck((x) => interpolate(x, { scaleFactor: [1.5, 0.6] }), [strided([1, 2, 3, 5], 21)]);
  });
  test("interpolate linear and bilinear, half-pixel and aligned corners", () => {
    gradcheck((x) => interpolate(x, { size: 7, mode: "linear" }), [d([1, 2, 4], 22)]);
    gradcheck((x) => interpolate(x, { scaleFactor: 0.7, mode: "linear", alignCorners: true }), [d([2, 1, 6], 23)]);
    gradcheck((x) => interpolate(x, { size: [5, 3], mode: "bilinear" }), [strided([1, 2, 3, 4], 24)]);
    gradcheck((x) => interpolate(x, { scaleFactor: 1.5, mode: "bilinear", alignCorners: true }), [d([1, 1, 3, 3], 25)]);
  });
  test("pixelShuffle and pixelUnshuffle", () => {
    gradcheck((x) => pixelShuffle(x, 2), [strided([1, 8, 2, 3], 26)]);
    gradcheck((x) => pixelUnshuffle(x, 2), [strided([2, 1, 4, 2], 27)]);
  });
  test("Unflatten", () => gradcheck((x) => new Unflatten(1, [2, -1]).forward(x), [strided([2, 6, 2], 28)]));
});

describe("Dropout1d / Dropout2d", () => {
  test("whole channels are zeroed with probability p, kept ones scaled by 1/(1-p); seeded; eval is identity", () => {
    for (const [m, shape] of [
      [new Dropout2d(0.3), [40, 50, 2, 3]],
      [new Dropout1d(0.3), [40, 50, 6]],
    ] as const) {
      const x = ones([...shape]);
      manualSeed(11);
      const y = m.forward(x);
      const v = y.toFlatArray();
      const per = shape.slice(2).reduce((a, b) => a * b, 1);
      let dropped = 0;
      for (let c = 0; c < v.length / per; c++) {
        const ch = Array.from(v.slice(c * per, (c + 1) * per));
        assert.ok(
          ch.every((e) => e === 0) || ch.every((e) => Math.abs(e - 1 / 0.7) < 1e-6),
          `channel ${c} is all 0 or all 1/(1-p): ${ch.join(", ")}`,
        );
        if (ch[0] === 0) dropped++;
      }
      // 2000 channels: the dropped fraction is 0.3 ± 0.0102 (1 sd); allow 4 sd.
      const frac = dropped / (v.length / per);
      assert.ok(Math.abs(frac - 0.3) < 0.041, `dropped fraction ${frac}`);
      manualSeed(11);
      assert.deepEqual(m.forward(x).toFlatArray(), v, "the same seed gives the same mask");
      m.eval();
      assert.equal(m.forward(x), x, "eval returns the input itself");
      m.train();
    }
  });
  test("the gradient is the mask; p = 1 zeroes everything; unbatched Dropout1d", () => {
    const x = d([3, 4, 5], 30);
    manualSeed(3);
    const y = dropout1d(x, 0.5);
    y.sum().backward();
    assert.deepEqual(x.grad!.toFlatArray(), y.div(x).toFlatArray());
    assert.ok(
      dropout2d(d([2, 3, 2, 2], 31), 1)
        .toFlatArray()
        .every((e) => e === 0),
    );
    manualSeed(4);
    const u = dropout1d(ones([6, 5]), 0.5);
    assert.deepEqual([...u.shape], [6, 5]);
    const rows = Array.from({ length: 6 }, (_, i) => u.select(0, i).toFlatArray());
    assert.ok(
      rows.every((r) => r.every((e) => e === r[0])),
      "unbatched [C, L]: each channel (row) is one draw",
    );
  });
});

describe("layers", () => {
  test("ConvTranspose default init is U(±1/√fanIn) with fanIn = out/groups · kernel, as PyTorch", () => {
    manualSeed(7);
    const a = new ConvTranspose2d(8, 12, 3, { groups: 2 });
    const bound = 1 / Math.sqrt(6 * 3 * 3);
    for (const p of [a.weight, a.bias!]) {
      const v = [...p.toFlatArray()].map(Math.abs);
      assert.ok(Math.max(...v) <= bound && Math.max(...v) > 0.8 * bound, `spread over ±${bound}`);
    }
  });
  test("state-dict keys and shapes as PyTorch's", () => {
    const keys = (m: { stateDict(): Record<string, Tensor> }) =>
      Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.shape], t.dtype]);
    assert.deepEqual(keys(new ConvTranspose1d(4, 6, 5, { groups: 2 })), [
      ["weight", [4, 3, 5], "float32"],
      ["bias", [6], "float32"],
    ]);
    assert.deepEqual(keys(new ConvTranspose2d(2, 3, [2, 3], { bias: false })), [["weight", [2, 3, 2, 3], "float32"]]);
    assert.deepEqual(keys(new GroupNorm(2, 4)), [
      ["weight", [4], "float32"],
      ["bias", [4], "float32"],
    ]);
    assert.deepEqual(keys(new InstanceNorm2d(3)), []);
    assert.deepEqual(keys(new InstanceNorm2d(3, { affine: true, trackRunningStats: true })), [
      ["weight", [3], "float32"],
      ["bias", [3], "float32"],
      ["running_mean", [3], "float32"],
      ["running_var", [3], "float32"],
      ["num_batches_tracked", [], "int32"],
    ]);
  });
  test("InstanceNorm2d without tracked stats normalises each instance in eval too; no affine accepts any C", () => {
    const m = new InstanceNorm2d(3);
    m.eval();
    const y = m.forward(d([2, 5, 3, 4], 32, false)); // 5 channels: PyTorch 1.13 only warns
    const mean = y.mean([2, 3]).abs().amax().item();
    assert.ok(mean < 1e-12, `instance means ${mean}`);
  });
});

describe("errors", () => {
  const x4 = d([1, 4, 3, 3], 40, false);
  const cases: [string, () => unknown, RegExp][] = [
    [
      "convT channels",
      () => convTranspose2d(x4, d([3, 2, 2, 2], 1, false)),
      /^convTranspose2d: input \[1,4,3,3\] with 4 channels does not fit weight \[3,2,2,2\]/,
    ],
    ["convT groups", () => convTranspose2d(x4, d([4, 2, 2, 2], 1, false), null, { groups: 3 }), /groups=3/],
    [
      "convT bias",
      () => convTranspose2d(x4, d([4, 2, 2, 2], 1, false), d([3], 2, false)),
      /bias must have shape \[2\]/,
    ],
    [
      "convT outputPadding",
      () => convTranspose2d(x4, d([4, 2, 2, 2], 1, false), null, { stride: 2, outputPadding: 2 }),
      /outputPadding \[2,2\] must be smaller than stride \[2,2\] or dilation \[1,1\]/,
    ],
    [
      "convT outputSize",
      () => convTranspose2d(x4, d([4, 2, 2, 2], 1, false), null, { stride: 2, outputSize: [9, 9] }),
      /requested outputSize \[9, 9\] is not between \[6, 6\] and \[7, 7\] for input \[1,4,3,3\]/,
    ],
    ["convT rank", () => convTranspose1d(x4, d([4, 2, 2], 1, false)), /^convTranspose1d: expected a 2-D or 3-D input/],
    [
      "convT layer outputPadding",
      () => new ConvTranspose2d(2, 2, 3, { outputPadding: 1 }),
      /^ConvTranspose2d: outputPadding/,
    ],
    [
      "GroupNorm divisible",
      () => new GroupNorm(3, 4),
      /^GroupNorm: numChannels \(4\) must be divisible by numGroups \(3\)/,
    ],
    [
      "GroupNorm channels",
      () => new GroupNorm(2, 6).forward(x4),
      /^GroupNorm: expected an input \[N, 6, \.\.\.\], got \[1,4,3,3\]/,
    ],
    [
      "InstanceNorm2d rank",
      () => new InstanceNorm2d(4).forward(d([4, 9], 1, false)),
      /^InstanceNorm2d: expected a 3-D or 4-D/,
    ],
    [
      "InstanceNorm2d channels",
      () => new InstanceNorm2d(3, { affine: true }).forward(x4),
      /^InstanceNorm2d: .*numFeatures \(3\), got input \[1,4,3,3\]/,
    ],
    ["instanceNorm one pixel", () => instanceNorm(d([2, 3, 1, 1], 1, false)), /more than 1 spatial element/],
    [
      "interpolate mode rank",
      () => interpolate(x4, { size: 5, mode: "linear" }),
      /mode "linear" needs a 3-D input.*\[1,4,3,3\]/,
    ],
    [
      "interpolate both",
      () => interpolate(x4, { size: 5, scaleFactor: 2 }),
      /exactly one of size and scaleFactor \(got both\)/,
    ],
    ["interpolate size length", () => interpolate(x4, { size: [5, 5, 5] }), /size must be one number or 2/],
    ["interpolate align nearest", () => new Upsample({ size: 4, alignCorners: true }), /^Upsample: alignCorners/],
    ["interpolate empty", () => interpolate(x4, { scaleFactor: 0.2 }), /gives an empty output \[0, 0\]/],
    [
      "dropout2d 3-D",
      () => new Dropout2d(0.5).forward(d([2, 3, 4], 1, false)),
      /^dropout2d: got a 3-D input \[2,3,4\].*dropout1d/,
    ],
    [
      "dropout1d rank",
      () => new Dropout1d(0.5).forward(x4),
      /^dropout1d: expected a 2-D \[C, L\] or 3-D .* \[1,4,3,3\]/,
    ],
    ["dropout p", () => new Dropout2d(1.5), /^Dropout2d: dropout probability/],
    [
      "pixelShuffle channels",
      () => new PixelShuffle(3).forward(x4),
      /the 4 channels of input \[1,4,3,3\] are not divisible by upscaleFactor² = 9/,
    ],
    ["pixelUnshuffle size", () => pixelUnshuffle(x4, 2), /height 3 and width 3 .* downscaleFactor 2/],
    [
      "Unflatten sizes",
      () => new Unflatten(1, [3, 2]).forward(x4),
      /sizes \[3, 2\] do not multiply to dim 1 of size 4 \(input \[1,4,3,3\]\)/,
    ],
  ];
  for (const [name, fn, re] of cases) {
    test(name, () => assert.throws(fn, (e: unknown) => e instanceof DescentError && re.test(e.message)));
  }
});
