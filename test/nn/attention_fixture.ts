// Replays the module cases of test/fixtures/attention.json (scripts/fixtures_attention.py): builds
// the Descent module from the case's constructor spec, loads the state dict PyTorch wrote, runs
// forward with the case's masks and compares outputs, input gradients and parameter gradients.
// Shared by test/nn/attention.test.ts and test/nn/transformer.test.ts.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import type { Tensor } from "../../src/index.js";
import type { DType } from "../../src/core/dtype.js";
import type { Module } from "../../src/nn/module.js";
import { MultiheadAttention } from "../../src/nn/layers/attention.js";
import { LayerNorm } from "../../src/nn/layers/layernorm.js";
import {
  TransformerDecoder,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerEncoderLayer,
} from "../../src/nn/layers/transformer.js";
import { assertAllclose } from "../helpers/allclose.js";
import { decodeSpecials, FIXTURE_DIR, toTensor, type FixtureTensor } from "../helpers/checkOp.js";

export interface SdpaCase {
  name: string;
  inputs: FixtureTensor[];
  mask: FixtureTensor | null;
  opts: { isCausal: boolean; scale?: number };
  output: FixtureTensor;
  upstream: FixtureTensor;
  grads: FixtureTensor[] | null;
}

export interface ModuleCase {
  name: string;
  cls: string;
  args: number[];
  opts: Record<string, unknown>;
  forwardOpts: Record<string, FixtureTensor | boolean>;
  state: Record<string, FixtureTensor>;
  repr: string;
  inputs: FixtureTensor[];
  outputs: (FixtureTensor | null)[];
  upstreams: FixtureTensor[];
  inputGrads: FixtureTensor[];
  paramGrads: Record<string, FixtureTensor>;
}

export const fixture = decodeSpecials(JSON.parse(readFileSync(join(FIXTURE_DIR, "attention.json"), "utf8"))) as {
  sdpa: SdpaCase[];
  modules: ModuleCase[];
};

/** float32: a few ulps of a different summation order through two matmuls, softmax and layer norm. */
export const TOL = { float32: { rtol: 1e-4, atol: 1e-5 }, float64: { rtol: 1e-9, atol: 1e-10 } };

/** The same values in a non-contiguous layout (a transposed copy transposed back). */
export function nonContiguous(t: Tensor): Tensor {
  return t.ndim < 2 ? t : t.transpose(0, -1).contiguous().transpose(0, -1);
}

export function makeModule(c: ModuleCase): Module {
  const [d, h] = c.args as [number, number];
  const { numLayers, norm, ...opts } = c.opts as Record<string, unknown> & { numLayers?: number; norm?: boolean };
  const o = { ...opts, dtype: (opts.dtype as DType | undefined) ?? "float32" };
  switch (c.cls) {
    case "MultiheadAttention":
      return new MultiheadAttention(d, h, o);
    case "TransformerEncoderLayer":
      return new TransformerEncoderLayer(d, h, o);
    case "TransformerDecoderLayer":
      return new TransformerDecoderLayer(d, h, o);
    case "TransformerEncoder":
      return new TransformerEncoder(new TransformerEncoderLayer(d, h, o), numLayers!, {
        norm: norm ? new LayerNorm(d, { dtype: o.dtype }) : null,
      });
    case "TransformerDecoder":
      return new TransformerDecoder(new TransformerDecoderLayer(d, h, o), numLayers!);
    default:
      throw new Error(`unknown class ${c.cls}`);
  }
}

/** Runs one module case; noncontig feeds the inputs as non-contiguous views. */
export function replayModule(c: ModuleCase, noncontig = false): void {
  const m = makeModule(c);
  assert.equal(m.toString(), c.repr, "repr");
  assert.deepEqual(Object.keys(m.stateDict()), Object.keys(c.state), "state-dict keys and order");
  m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, toTensor(v)])));
  const leaves = c.inputs.map((x) => toTensor(x, true));
  const xs = noncontig ? leaves.map(nonContiguous) : leaves;
  const fo = Object.fromEntries(
    Object.entries(c.forwardOpts).map(([k, v]) => [k, typeof v === "boolean" ? v : toTensor(v)]),
  );
  const fwd = (m.forward as (...a: unknown[]) => Tensor | [Tensor, Tensor | null]).bind(m);
  const raw = c.cls === "MultiheadAttention" && xs.length === 1 ? fwd(xs[0], xs[0], xs[0], fo) : fwd(...xs, fo);
  const outs = Array.isArray(raw) ? raw : [raw];
  const tol = TOL[c.inputs[0]!.dtype as "float32" | "float64"];
  assert.equal(outs.length, c.outputs.length, "number of outputs");
  let loss: Tensor | null = null;
  let r = 0;
  c.outputs.forEach((want, i) => {
    const got = outs[i]!;
    if (want === null) return assert.equal(got, null, `output ${i} should be null`);
    assert.ok(got, `output ${i} missing`);
    assert.deepEqual(got.shape, want.shape, `output ${i} shape`);
    assertAllclose(got, want.values, { ...tol, message: `output ${i}` });
    const term = got.mul(toTensor(c.upstreams[r++]!)).sum();
    loss = loss ? loss.add(term) : term;
  });
  (loss as unknown as Tensor).backward();
  leaves.forEach((x, i) => assertAllclose(x.grad!, c.inputGrads[i]!.values, { ...tol, message: `input ${i} grad` }));
  const params = Object.fromEntries(m.namedParameters());
  assert.deepEqual(Object.keys(params).sort(), Object.keys(c.paramGrads).sort(), "parameter names");
  for (const [k, g] of Object.entries(c.paramGrads))
    assertAllclose(params[k]!.grad!, g.values, { ...tol, message: `grad of ${k}` });
}
