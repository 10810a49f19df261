// PyTorch parity for Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d/2d and
// F.unfold/F.fold: every case of test/fixtures/nn_conv.json (scripts/fixtures_conv.py, PyTorch 1.13)
// loads PyTorch's weights, runs each step in train or eval mode and compares the output, the
// gradients of (output · upstream).sum() w.r.t. the input and every parameter, and the buffers after
// the last step, and toString() with PyTorch's str(module). Tolerances are checkOp's dtype defaults (float64 rtol 1e-10/atol 1e-12, float32
// rtol 1e-5/atol 1e-6).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import type { Tensor } from "../../src/index.js";
import type { Module } from "../../src/nn/module.js";
import { Conv1d, Conv2d } from "../../src/nn/layers/conv.js";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "../../src/nn/layers/pooling.js";
import { BatchNorm1d, BatchNorm2d } from "../../src/nn/layers/batchnorm.js";
import { fold, unfold, type Pair } from "../../src/nn/functional/conv.js";
import { compare, describeComparison } from "../helpers/allclose.js";
import { FIXTURE_DIR, defaultTolerance, toTensor, type FixtureTensor } from "../helpers/checkOp.js";

interface Step {
  train: boolean;
  input: FixtureTensor;
  output: FixtureTensor;
  upstream: FixtureTensor;
  grads: Record<string, FixtureTensor>;
}
interface Case {
  name: string;
  kind: string;
  args: { positional: unknown[]; options: Record<string, unknown> };
  dtype: "float32" | "float64";
  state: Record<string, FixtureTensor>;
  steps: Step[];
  stateAfter?: Record<string, FixtureTensor>;
  repr?: string;
}

const file = JSON.parse(readFileSync(join(FIXTURE_DIR, "nn_conv.json"), "utf8")) as { cases: Case[] };

/** A module-like runner for a case: the layer itself, or a parameterless wrapper of a functional form. */
type Runner = Pick<Module, "train" | "loadStateDict" | "namedParameters" | "namedBuffers" | "zeroGrad"> & {
  forward(x: Tensor): Tensor;
};

/* eslint-disable @typescript-eslint/no-explicit-any -- fixture arguments are untyped JSON */
function build(c: Case): Runner {
  const p = c.args.positional as any[];
  const o = c.args.options as any;
  switch (c.kind) {
    case "Conv1d":
      return new Conv1d(p[0], p[1], p[2], o);
    case "Conv2d":
      return new Conv2d(p[0], p[1], p[2], o);
    case "MaxPool2d":
      return new MaxPool2d(p[0], o);
    case "AvgPool2d":
      return new AvgPool2d(p[0], o);
    case "AdaptiveAvgPool2d":
      return new AdaptiveAvgPool2d(p[0]);
    case "BatchNorm1d":
      return new BatchNorm1d(p[0], o);
    case "BatchNorm2d":
      return new BatchNorm2d(p[0], o);
    case "F.unfold":
      return fnRunner((x) => unfold(x, p[0] as Pair, o));
    case "F.fold":
      return fnRunner((x) => fold(x, p[0] as Pair, p[1] as Pair, o));
  }
  throw new Error(`unknown kind ${c.kind}`);
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function fnRunner(f: (x: Tensor) => Tensor): Runner {
  const r: Runner = {
    forward: f,
    train: () => r as never,
    loadStateDict: () => ({ missingKeys: [], unexpectedKeys: [] }),
    namedParameters: () => [],
    namedBuffers: () => [],
    zeroGrad: () => {},
  };
  return r;
}

function check(what: string, actual: Tensor | null | undefined, expected: FixtureTensor): void {
  assert.ok(actual, `${what}: missing`);
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  const tol = defaultTolerance(expected.dtype);
  const cmp = compare(actual.toFlatArray(), expected.values, tol, expected.shape);
  assert.ok(cmp.ok, `${what}: ${describeComparison(cmp, expected.values.length)} (rtol ${tol.rtol}, atol ${tol.atol})`);
}

describe("nn conv/pool/batchnorm vs PyTorch (nn_conv.json)", () => {
  for (const c of file.cases) {
    test(c.name, () => {
      const m = build(c);
      if (c.repr !== undefined) assert.equal(m.toString(), c.repr, "toString()");
      m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, t]) => [k, toTensor(t)])));
      const params = new Map(m.namedParameters());
      c.steps.forEach((s, i) => {
        m.train(s.train);
        m.zeroGrad();
        const x = toTensor(s.input, true);
        const y = m.forward(x);
        check(`step ${i} output`, y, s.output);
        y.mul(toTensor(s.upstream)).sum().backward();
        for (const [k, g] of Object.entries(s.grads)) {
          check(`step ${i} grad of ${k}`, k === "input" ? x.grad : params.get(k)?.grad, g);
        }
      });
      if (c.stateAfter) {
        const bufs = new Map(m.namedBuffers());
        for (const [k, t] of Object.entries(c.stateAfter)) check(`buffer ${k} after the steps`, bufs.get(k), t);
      }
    });
  }
});

// Issue 11 #14: files from before PyTorch 0.4.1 (and other frameworks) lack num_batches_tracked;
// PyTorch's _NormBase version hook fills in 0 instead of reporting a missing key.
test("BatchNorm loads a state dict without num_batches_tracked (taken as 0), strictly", async () => {
  const { tensor } = await import("../../src/index.js");
  for (const bn of [new BatchNorm1d(3), new BatchNorm2d(3)]) {
    const bnAny = bn as unknown as { num_batches_tracked: Tensor; running_mean: Tensor };
    bn.forward(
      tensor(Array.from({ length: bn instanceof BatchNorm2d ? 24 : 6 }, (_, i) => i % 5)).reshape(
        ...(bn instanceof BatchNorm2d ? [2, 3, 2, 2] : [2, 3]),
      ),
    );
    assert.equal(bnAny.num_batches_tracked.item(), 1);
    const old = {
      weight: tensor([1, 2, 3]),
      bias: tensor([0, 1, 0]),
      running_mean: tensor([0.5, 0.25, 0]),
      running_var: tensor([1, 2, 4]),
    };
    const r = bn.loadStateDict(old);
    assert.deepEqual(r.missingKeys, []);
    assert.equal(bnAny.num_batches_tracked.item(), 0);
    assert.deepEqual(Array.from(bnAny.running_mean.toFlatArray()), [0.5, 0.25, 0]);
    assert.equal("num_batches_tracked" in old, false, "the caller's object is not changed");
  }
  // Without running statistics there is nothing to fill in, and other keys are still required.
  assert.throws(() => new BatchNorm1d(3).loadStateDict({}), /missing keys: weight, bias, running_mean, running_var$/);
});
