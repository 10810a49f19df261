// summary / countParameters / setNumThreads / getNumThreads (issue 17, item 5). Parameter counts
// are checked against the layer formulas (Conv2d: out*in*k*k + out; Linear: out*in + out), which
// are PyTorch's numel sums; shapes against the layer arithmetic (32 - 3 + 1 = 30).

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  availableBackends,
  countParameters,
  DescentError,
  getNumThreads,
  nn,
  randn,
  setBackend,
  setNumThreads,
  summary,
  type Tensor,
} from "../../src/index.js";
import { backend } from "../../src/backends/index.js";

function convNet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(3, 8, 3),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(8 * 30 * 30, 10),
  );
}

test("countParameters counts every parameter once and trainableOnly skips frozen ones", () => {
  const m = convNet();
  const conv = 8 * 3 * 3 * 3 + 8;
  const bn = 8 + 8;
  const lin = 10 * 7200 + 10;
  assert.equal(countParameters(m), conv + bn + lin);
  (m.at(0) as nn.Conv2d).weight.requiresGrad = false;
  assert.equal(countParameters(m, { trainableOnly: true }), 8 + bn + lin);
  const shared = new nn.Linear(4, 4);
  const twice = new nn.Sequential(shared, new nn.ReLU(), shared);
  assert.equal(countParameters(twice), 20);
});

test("summary lists the layers in call order with output shapes, counts and totals", () => {
  const m = convNet();
  (m.at(4) as nn.Linear).bias!.requiresGrad = false;
  const text = summary(m, [2, 3, 32, 32]);
  const rows = text.split("\n");
  const at = (label: string) => rows.findIndex((r) => r.startsWith(label));
  assert.ok(at("0 (Conv2d)") < at("1 (BatchNorm2d)") && at("1 (BatchNorm2d)") < at("4 (Linear)"), text);
  assert.match(rows[at("0 (Conv2d)")]!, /\[2, 8, 30, 30\]\s+224\s+yes$/);
  assert.match(rows[at("3 (Flatten)")]!, /\[2, 7200\]\s+0\s+-$/);
  assert.match(rows[at("4 (Linear)")]!, /\[2, 10\]\s+72,010\s+partly$/);
  assert.ok(text.includes("Total params: 72,250"), text);
  assert.ok(text.includes("Trainable params: 72,240"), text);
  assert.ok(text.includes("Non-trainable params: 10"), text);
});

test("summary leaves the model as it found it: training flags, BatchNorm statistics, no hooks", () => {
  const m = convNet();
  m.train();
  const bn = m.at(1) as nn.BatchNorm2d;
  const before = (bn as unknown as { running_mean: Tensor }).running_mean.toFlatArray();
  const x = randn([2, 3, 32, 32]);
  summary(m, x);
  assert.equal(m.training, true);
  assert.equal(bn.training, true);
  assert.deepEqual((bn as unknown as { running_mean: Tensor }).running_mean.toFlatArray(), before);
  let calls = 0;
  m.registerForwardHook(() => void calls++);
  m.forward(x);
  assert.equal(calls, 1);
});

test("summary names the failing forward pass and rejects bad example inputs", () => {
  const m = convNet();
  assert.throws(
    () => summary(m, [2, 3, 16, 16]),
    (e: unknown) => {
      assert.ok(e instanceof DescentError);
      assert.match(e.message, /^summary: the forward pass on inputs \[2,3,16,16\] failed: /);
      return true;
    },
  );
  assert.throws(() => summary(m, ["x"] as never), /summary: exampleInputs must be/);
  assert.equal(m.training, true);
});

test("setNumThreads sets the native pool; getNumThreads reads the current backend's", () => {
  assert.throws(() => setNumThreads(0), DescentError);
  assert.throws(() => setNumThreads(1.5), /setNumThreads: expected a whole number/);
  if (!availableBackends().includes("native")) return;
  const original = backend().name;
  setBackend("native");
  const before = getNumThreads();
  try {
    assert.ok(before >= 1);
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
    setNumThreads(3);
    assert.equal(getNumThreads(), 3);
    setBackend("js");
    assert.equal(getNumThreads(), 1);
  } finally {
    setBackend("native");
    setNumThreads(before);
    setBackend(original);
  }
});
