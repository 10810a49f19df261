// PyTorch parity for the issue-13 layers: every case of test/fixtures/layers.json
// (scripts/fixtures_layers.py, PyTorch 1.13) loads PyTorch's state dict unchanged, runs each step in
// train or eval mode and compares the output, the gradients of (output · upstream).sum() w.r.t. the
// input and every parameter, the buffers after the last step, and toString() with str(module).
// Each case runs twice: with contiguous inputs, and with the same values as a non-contiguous view
// (reversed dims copied, then permuted back). Tolerances are checkOp's dtype defaults (float64
// rtol 1e-10/atol 1e-12, float32 rtol 1e-5/atol 1e-6).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { noGrad, type Tensor } from "../../src/index.js";
import type { Module } from "../../src/nn/module.js";
import { ConvTranspose1d, ConvTranspose2d } from "../../src/nn/layers/conv_transpose.js";
import { GroupNorm, InstanceNorm2d } from "../../src/nn/layers/norm.js";
import { PixelShuffle, PixelUnshuffle, Unflatten, Upsample } from "../../src/nn/layers/reshape.js";
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
  forward?: { outputSize?: number[] };
  dtype: "float32" | "float64";
  state: Record<string, FixtureTensor>;
  steps: Step[];
  stateAfter?: Record<string, FixtureTensor>;
  repr: string;
}

const file = JSON.parse(readFileSync(join(FIXTURE_DIR, "layers.json"), "utf8")) as { cases: Case[] };

/* eslint-disable @typescript-eslint/no-explicit-any -- fixture arguments are untyped JSON */
function build(c: Case): Module & { forward(x: Tensor, outputSize?: number[]): Tensor } {
  const p = c.args.positional as any[];
  const o = c.args.options as any;
  switch (c.kind) {
    case "ConvTranspose1d":
      return new ConvTranspose1d(p[0], p[1], p[2], o);
    case "ConvTranspose2d":
      return new ConvTranspose2d(p[0], p[1], p[2], o);
    case "GroupNorm":
      return new GroupNorm(p[0], p[1], o);
    case "InstanceNorm2d":
      return new InstanceNorm2d(p[0], o);
    case "Upsample": {
      // The fixture gives every layer its dtype; Upsample holds no parameters and (as PyTorch's) takes none.
      const { dtype: _dtype, ...rest } = o;
      return new Upsample(rest);
    }
    case "PixelShuffle":
      return new PixelShuffle(p[0]);
    case "PixelUnshuffle":
      return new PixelUnshuffle(p[0]);
    case "Unflatten":
      return new Unflatten(p[0], p[1]);
  }
  throw new Error(`unknown kind ${c.kind}`);
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function check(what: string, actual: Tensor | null | undefined, expected: FixtureTensor): void {
  assert.ok(actual, `${what}: missing`);
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  const tol = defaultTolerance(expected.dtype);
  const cmp = compare(actual.toFlatArray(), expected.values, tol, expected.shape);
  assert.ok(cmp.ok, `${what}: ${describeComparison(cmp, expected.values.length)} (rtol ${tol.rtol}, atol ${tol.atol})`);
}

/** The fixture's values as a non-contiguous leaf: the reversed-dims copy, permuted back. */
function strided(t: FixtureTensor): Tensor {
  const rev = t.shape.map((_, i) => t.shape.length - 1 - i);
  const x = noGrad(() => toTensor(t).permute(rev).contiguous().permute(rev));
  x.requiresGrad = true;
  return x;
}

function replay(c: Case, nonContiguous: boolean): void {
  const m = build(c);
  assert.equal(m.toString(), c.repr, "toString()");
  const r = m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, t]) => [k, toTensor(t)])));
  assert.deepEqual([r.missingKeys, r.unexpectedKeys], [[], []], "PyTorch's state dict loads unchanged");
  const params = new Map(m.namedParameters());
  c.steps.forEach((s, i) => {
    m.train(s.train);
    m.zeroGrad();
    const x = nonContiguous ? strided(s.input) : toTensor(s.input, true);
    if (nonContiguous && x.ndim > 1 && x.size > 1) assert.equal(x.isContiguous(), false);
    const y = m.forward(x, c.forward?.outputSize);
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
}

describe("issue-13 layers vs PyTorch (layers.json)", () => {
  for (const c of file.cases) {
    test(c.name, () => {
      replay(c, false);
      replay(c, true);
    });
  }
});
