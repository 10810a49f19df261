// Convolution, pooling and batch norm beyond the PyTorch fixtures: float64 gradchecks of every
// functional form on small configurations (central differences, test/helpers/gradcheck.ts), default
// initialisation, state-dict layout, and the errors for bad arguments.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DescentError, manualSeed, noGrad, type Tensor } from "../../src/index.js";
import * as F from "../../src/nn/functional/conv.js";
import { Conv1d, Conv2d } from "../../src/nn/layers/conv.js";
import { AvgPool2d, MaxPool2d } from "../../src/nn/layers/pooling.js";
import { BatchNorm1d, BatchNorm2d } from "../../src/nn/layers/batchnorm.js";
import { distinctTensor, dtensor, gradcheck } from "../helpers/gradcheck.js";

const d = (shape: number[], seed: number, requiresGrad = true): Tensor => dtensor(shape, { seed, requiresGrad });

describe("gradcheck (float64)", () => {
  test("conv2d stride, padding, dilation, bias", () =>
    gradcheck(
      (x, w, b) => F.conv2d(x, w, b, { stride: [2, 1], padding: 1, dilation: [1, 2] }),
      [d([1, 2, 4, 5], 1), d([3, 2, 2, 3], 2), d([3], 3)],
    ));
  test("conv2d groups with asymmetric same padding", () =>
    gradcheck(
      (x, w) => F.conv2d(x, w, null, { padding: "same", groups: 2 }),
      [d([2, 2, 3, 4], 4), d([4, 1, 2, 2], 5)],
    ));
  test("conv2d unbatched", () =>
    gradcheck((x, w, b) => F.conv2d(x, w, b, { padding: [0, 1] }), [d([2, 3, 3], 6), d([2, 2, 2, 2], 7), d([2], 8)]));
  test("conv1d stride, padding, dilation, groups", () =>
    gradcheck(
      (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2, groups: 2 }),
      [d([2, 2, 7], 9), d([4, 1, 3], 10), d([4], 11)],
    ));
  test("maxPool2d with padding, dilation and ceil mode", () =>
    gradcheck(
      (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
      [distinctTensor([1, 2, 6, 5], { seed: 12 })],
    ));
  test("maxPool2d dilated", () =>
    gradcheck((x) => F.maxPool2d(x, [2, 3], { stride: 1, dilation: [2, 1] }), [distinctTensor([1, 1, 5, 5])]));
  test("avgPool2d ceil mode, padding excluded", () =>
    gradcheck(
      (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
      [d([1, 2, 6, 5], 13)],
    ));
  test("avgPool2d divisorOverride", () =>
    gradcheck((x) => F.avgPool2d(x, 2, { stride: 1, divisorOverride: 3 }), [d([1, 1, 3, 4], 14)]));
  test("adaptiveAvgPool2d (overlapping bins)", () =>
    gradcheck((x) => F.adaptiveAvgPool2d(x, [3, 4]), [d([1, 2, 5, 7], 15)]));
  test("unfold and fold", () => {
    const win = { stride: [2, 1] as const, padding: 1, dilation: [1, 2] as const };
    gradcheck((x) => F.unfold(x, [2, 2], win), [d([1, 2, 4, 5], 16)]);
    gradcheck((x) => F.fold(x, [4, 5], [2, 2], win), [d([1, 8, 15], 17)]);
  });
  test("batchNorm in training (batch statistics)", () => {
    const rm = d([2], 18, false);
    const rv = dtensor([2], { lo: 0.5, hi: 2, requiresGrad: false });
    gradcheck((x, w, b) => F.batchNorm(x, rm, rv, w, b, true, 0.1, 1e-5), [d([3, 2, 3], 19), d([2], 20), d([2], 21)]);
  });
  test("batchNorm in eval (running statistics)", () => {
    const rm = d([3], 22, false);
    const rv = dtensor([3], { lo: 0.5, hi: 2, requiresGrad: false });
    gradcheck((x, w, b) => F.batchNorm(x, rm, rv, w, b, false), [d([2, 3, 2, 2], 23), d([3], 24), d([3], 25)]);
  });
});

describe("layers", () => {
  test("Conv2d default init is U(±1/√fanIn) for weight and bias, reproducible under manualSeed", () => {
    manualSeed(7);
    const a = new Conv2d(8, 16, 3, { groups: 2 });
    const bound = 1 / Math.sqrt(4 * 3 * 3);
    for (const p of [a.weight, a.bias!]) {
      const v = [...p.toFlatArray()];
      assert.ok(Math.max(...v.map(Math.abs)) <= bound, "within the bound");
      assert.ok(Math.max(...v.map(Math.abs)) > 0.8 * bound, "spread over the bound");
    }
    manualSeed(7);
    assert.deepEqual(new Conv2d(8, 16, 3, { groups: 2 }).weight.toFlatArray(), a.weight.toFlatArray());
  });

  test("state-dict keys, shapes and dtypes as PyTorch's", () => {
    const c = new Conv1d(4, 6, 5, { groups: 2 });
    assert.deepEqual(
      Object.entries(c.stateDict()).map(([k, t]) => [k, [...t.shape]]),
      [
        ["weight", [6, 2, 5]],
        ["bias", [6]],
      ],
    );
    assert.deepEqual(Object.keys(new Conv2d(2, 3, 3, { bias: false }).stateDict()), ["weight"]);
    const bn = new BatchNorm2d(3);
    const sd = bn.stateDict();
    assert.deepEqual(Object.keys(sd), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
    assert.equal(sd.num_batches_tracked!.dtype, "int32");
    assert.deepEqual([...sd.num_batches_tracked!.shape], []);
    assert.deepEqual(Object.keys(new BatchNorm1d(3, { affine: false, trackRunningStats: false }).stateDict()), []);
    assert.deepEqual(
      bn.namedParameters().map(([k]) => k),
      ["weight", "bias"],
    );
  });

  test("BatchNorm eval without running stats uses the batch; buffers untouched in eval", () => {
    const bn = new BatchNorm1d(2);
    const x = dtensor([4, 2], { seed: 30, requiresGrad: false }).float();
    bn.eval();
    bn.forward(x);
    assert.equal(bn.num_batches_tracked!.item(), 0);
    assert.deepEqual([...bn.running_mean!.toFlatArray()], [0, 0]);
    bn.train();
    noGrad(() => bn.forward(x));
    assert.equal(bn.num_batches_tracked!.item(), 1);
  });
});

describe("errors", () => {
  const x = dtensor([1, 4, 5, 5], { requiresGrad: false });
  const cases: [string, () => unknown, RegExp][] = [
    [
      "channel mismatch",
      () => F.conv2d(x, dtensor([2, 3, 3, 3]), null),
      /^conv2d: input \[1,4,5,5\].*weight \[2,3,3,3\]/,
    ],
    ["groups", () => F.conv2d(x, dtensor([3, 2, 3, 3]), null, { groups: 2 }), /^conv2d: .*groups=2/],
    ["bias shape", () => F.conv2d(x, dtensor([2, 4, 3, 3]), dtensor([3])), /^conv2d: bias must have shape \[2\]/],
    ["kernel too large", () => F.conv2d(x, dtensor([2, 4, 6, 6]), null), /^conv2d: .*smaller than/],
    ["same with stride", () => F.conv2d(x, dtensor([2, 4, 3, 3]), null, { stride: 2, padding: "same" }), /strided/],
    ["weight rank", () => F.conv1d(dtensor([1, 2, 5]), dtensor([2, 2, 3, 3]), null), /^conv1d: expected a 3-D weight/],
    [
      "input rank",
      () => F.conv2d(dtensor([5, 5]), dtensor([2, 4, 3, 3]), null),
      /^conv2d: expected a 3-D or 4-D input/,
    ],
    ["negative padding", () => F.conv2d(x, dtensor([2, 4, 3, 3]), null, { padding: -1 }), /^conv2d: padding must be/],
    ["pool padding", () => F.maxPool2d(x, 2, { padding: 2 }), /^maxPool2d: padding \[2,2\] must be at most half/],
    ["pool too small", () => F.avgPool2d(x, 7), /^avgPool2d: input \[1,4,5,5\] is too small/],
    ["int input", () => F.maxPool2d(x.int(), 2), /^maxPool2d: expected a floating-point input/],
    ["adaptive size", () => F.adaptiveAvgPool2d(x, 0), /^adaptiveAvgPool2d: outputSize/],
    [
      "bn channels",
      () => F.batchNorm(x, dtensor([3]), dtensor([3])),
      /^batchNorm: runningMean should contain 4 elements, not 3/,
    ],
    [
      "bn single value",
      () => F.batchNorm(dtensor([1, 3]), null, null, null, null, true),
      /more than 1 value per channel/,
    ],
    ["BatchNorm2d rank", () => new BatchNorm2d(4).forward(dtensor([2, 4])), /^BatchNorm2d: expected a 4-D input/],
    ["BatchNorm1d rank", () => new BatchNorm1d(4).forward(x), /^BatchNorm1d: expected a 2-D or 3-D input/],
    [
      "Conv2d groups",
      () => new Conv2d(4, 3, 3, { groups: 2 }),
      /^Conv2d: outChannels \(3\) must be divisible by groups/,
    ],
    ["Conv2d padding mode", () => new Conv2d(4, 3, 3, { paddingMode: "reflect" as "zeros" }), /^Conv2d: paddingMode/],
    ["Conv1d same strided", () => new Conv1d(4, 3, 3, { stride: 2, padding: "same" }), /^Conv1d: padding="same"/],
    ["MaxPool2d indices", () => new MaxPool2d(2, { returnIndices: true }), /^MaxPool2d: returnIndices/],
    ["AvgPool2d divisor", () => new AvgPool2d(2, { divisorOverride: 0 }).forward(x), /^avgPool2d: divisorOverride/],
    ["fold size", () => F.fold(dtensor([1, 8, 7]), [4, 5], 2), /^fold: input \[1,8,7\]/],
  ];
  for (const [name, fn, re] of cases) {
    test(name, () => assert.throws(fn, (e: unknown) => e instanceof DescentError && re.test(e.message)));
  }
});
