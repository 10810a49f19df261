// Issue 17, item 4: bad option values from plain JavaScript (a dtype Descent does not have, a
// negative or fractional size, NaN where a number is needed, a misspelled enum string) get a
// DescentError naming the operation and the value, instead of a TypeError from deep inside a loop
// or a silently wrong result. One line per reproducer.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as descent from "../../src/index.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the point is calls TypeScript would refuse */
const d = descent as any;
const { nn, optim, data } = d;
const S = optim.lrScheduler;
const F = nn.functional;
const lin = () => new nn.Linear(2, 2);
const sgd = () => new optim.SGD(lin().parameters(), { lr: 0.1 });
const ids = d.tensor([0, 1], { dtype: "int32" });
const DTYPES = /valid dtypes: float32, float64, int32|expected float32, float64 or int32/;

/** [what, the call, what its message must say]. */
const CASES: [string, () => unknown, RegExp][] = [
  // dtype names
  ["x.to('float16')", () => d.zeros([2]).to("float16"), /^to: unknown dtype the string "float16" \(valid dtypes/],
  ["zeros dtype 'float'", () => d.zeros([2], { dtype: "float" }), /^zeros: unknown dtype .*"float"/],
  ["tensor dtype 'int64'", () => d.tensor([1, 2], { dtype: "int64" }), /^tensor: unknown dtype .*"int64"/],
  ["arange dtype 'f32'", () => d.arange(0, 3, 1, { dtype: "f32" }), /^arange: unknown dtype/],
  ["Linear dtype 'float16'", () => new nn.Linear(2, 3, { dtype: "float16" }), /^Linear: unknown dtype .*"float16"/],
  ["Conv2d dtype 'half'", () => new nn.Conv2d(2, 3, 3, { dtype: "half" }), /^Conv2d: unknown dtype .*"half"/],
  ["BatchNorm2d dtype 32", () => new nn.BatchNorm2d(3, { dtype: 32 }), /^BatchNorm2d: unknown dtype number 32/],
  ["Embedding dtype", () => new nn.Embedding(4, 2, { dtype: "double" }), /^Embedding: unknown dtype/],
  [
    "MultiheadAttention dtype",
    () => new nn.MultiheadAttention(4, 2, { dtype: "bf16" }),
    /^MultiheadAttention: unknown/,
  ],
  ["GroupNorm dtype", () => new nn.GroupNorm(1, 2, { dtype: "float" }), /^GroupNorm: unknown dtype/],
  // sizes
  ["Linear(-1, 3)", () => new nn.Linear(-1, 3), /^Linear: inFeatures must be a non-negative integer, got -1/],
  ["Linear(2.5, 3)", () => new nn.Linear(2.5, 3), /^Linear: inFeatures .* got 2\.5/],
  ["Conv2d(3, 8, 0)", () => new nn.Conv2d(3, 8, 0), /^Conv2d: kernelSize must be an integer ≥ 1/],
  ["zeros([-2])", () => d.zeros([-2]), /^zeros: invalid shape \[-2\]/],
  [
    "DataLoader batchSize 0",
    () => new data.DataLoader(new data.TensorDataset(d.zeros([4])), { batchSize: 0 }),
    /batchSize must be a positive integer, got 0/,
  ],
  ["LSTM numLayers 0", () => new nn.LSTM(2, 3, { numLayers: 0 }), /^LSTM: numLayers must be an integer ≥ 1, got 0/],
  // numbers that must be finite or in range
  [
    "SGD lr NaN",
    () => new optim.SGD(lin().parameters(), { lr: NaN }),
    /^SGD: invalid learning rate \(lr\) in parameter group 0: NaN/,
  ],
  ["Adam eps NaN", () => new optim.Adam(lin().parameters(), { eps: NaN }), /^Adam: invalid eps/],
  [
    "StepLR gamma NaN",
    () => new S.StepLR(sgd(), 2, { gamma: NaN }),
    /^StepLR: gamma must be a finite number, got number NaN/,
  ],
  [
    "MultiStepLR gamma Infinity",
    () => new S.MultiStepLR(sgd(), [1], { gamma: Infinity }),
    /^MultiStepLR: gamma must be a finite/,
  ],
  [
    "CosineAnnealingLR etaMin NaN",
    () => new S.CosineAnnealingLR(sgd(), 3, { etaMin: NaN }),
    /^CosineAnnealingLR: etaMin must be a finite/,
  ],
  [
    "BatchNorm2d eps -1",
    () => new nn.BatchNorm2d(3, { eps: -1 }),
    /^BatchNorm2d: eps must be a finite number ≥ 0, got number -1/,
  ],
  [
    "BatchNorm1d momentum 2",
    () => new nn.BatchNorm1d(3, { momentum: 2 }),
    /^BatchNorm1d: momentum must be a number in \[0, 1\]/,
  ],
  ["GroupNorm eps NaN", () => new nn.GroupNorm(1, 2, { eps: NaN }), /^GroupNorm: eps must be a finite number ≥ 0/],
  ["InstanceNorm2d eps NaN", () => new nn.InstanceNorm2d(2, { eps: NaN }), /^InstanceNorm2d: eps must be a finite/],
  ["LeakyReLU NaN", () => new nn.LeakyReLU(NaN), /^LeakyReLU: negativeSlope must be a finite number/],
  ["ELU alpha '1'", () => new nn.ELU({ alpha: "1" }), /^ELU: alpha must be a finite number, got the string "1"/],
  ["var correction NaN", () => d.zeros([3]).var(0, { correction: NaN }), /^var: correction must be a finite number/],
  [
    "crossEntropy ignoreIndex 1.5",
    () => F.crossEntropy(d.zeros([2, 3]), ids, { ignoreIndex: 1.5 }),
    /^crossEntropy: ignoreIndex must be an integer, got 1\.5/,
  ],
  ["Dropout p 2", () => new nn.Dropout(2), /^Dropout: dropout probability has to be between 0 and 1/],
  // enum strings
  [
    "mseLoss reduction 'avg'",
    () => F.mseLoss(d.zeros([2]), d.zeros([2]), { reduction: "avg" }),
    /^mseLoss: reduction must be one of "mean", "sum", "none", got "avg"/,
  ],
  [
    "CrossEntropyLoss reduction",
    () => new nn.CrossEntropyLoss({ reduction: "average" }),
    /^CrossEntropyLoss: reduction must be one of/,
  ],
  [
    "evaluate metric 'acc'",
    () => d.evaluate(lin(), [], { metrics: ["acc"] }),
    /^evaluate: each metric must be one of "loss", "accuracy", got the string "acc"/,
  ],
  ["pad mode 'zeros'", () => F.pad(d.zeros([1, 1, 4]), [1, 1], { mode: "zeros" }), /^pad: /],
];
/* eslint-enable @typescript-eslint/no-explicit-any */

describe("issue 17: bad option values throw a DescentError naming the op and the value", () => {
  for (const [what, call, re] of CASES) {
    test(what, () => {
      assert.throws(call, (e: unknown) => {
        assert.ok(e instanceof descent.DescentError, `expected a DescentError, got ${String(e)}`);
        assert.match(e.message, re);
        return true;
      });
    });
  }

  test("every dtype message lists the valid dtypes", () => {
    for (const [what, call] of CASES.filter(([w]) => /dtype|to\(/.test(w))) {
      assert.throws(call, (e: unknown) => e instanceof Error && DTYPES.test(e.message), what);
    }
  });
});

describe("issue 17: the checks leave valid values alone", () => {
  test("a dtype given explicitly, momentum null and eps 0 are accepted", () => {
    assert.equal(new nn.Linear(2, 3, { dtype: "float64" }).weight.dtype, "float64");
    assert.equal(d.zeros([2]).to("int32").dtype, "int32");
    assert.equal(new nn.BatchNorm2d(3, { momentum: null, eps: 0 }).momentum, null);
    assert.equal(new S.StepLR(sgd(), 2, { gamma: 0.5 }).gamma, 0.5);
  });
});
