// nn.RNN / nn.LSTM / nn.GRU against PyTorch 1.13 (test/fixtures/nn_rnn.json, made by
// scripts/fixtures_rnn.py): each case loads PyTorch's state dict, runs the same input (and initial
// state), compares output and final states, then differentiates the same scalar of all outputs and
// compares the gradients of the input, the initial states and every parameter. Also: state-dict keys
// and order, repr, dropout between layers, gradcheck in float64, and input validation.
// Tolerances are checkOp's dtype defaults (float64 rtol 1e-10/atol 1e-12, float32 rtol 1e-5/atol 1e-6).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { cat, manualSeed, noGrad, tensor, DescentError, type Tensor } from "../../src/index.js";
import { GRU, LSTM, RNN, type RNNBase, type RNNMode, type RNNOptions } from "../../src/nn/layers/rnn.js";
import { compare, describeComparison } from "../helpers/allclose.js";
import { defaultTolerance, loadFixtures, toTensor, type FixtureTensor } from "../helpers/checkOp.js";
import { dtensor, gradcheck } from "../helpers/gradcheck.js";

interface RnnCase {
  name: string;
  mode: RNNMode;
  dtype: "float32" | "float64";
  options: RNNOptions;
  inputSize: number;
  hiddenSize: number;
  keys: string[];
  repr: string;
  state: [string, FixtureTensor][];
  input: FixtureTensor;
  h0?: FixtureTensor;
  c0?: FixtureTensor;
  output: FixtureTensor;
  hN: FixtureTensor;
  cN?: FixtureTensor;
  upstream: Record<string, FixtureTensor>;
  grads: Record<string, FixtureTensor>;
}

const CASES = loadFixtures("nn_rnn.json").cases as unknown as RnnCase[];

function make(mode: RNNMode, inputSize: number, hiddenSize: number, opts: RNNOptions): RNNBase {
  if (mode === "LSTM") return new LSTM(inputSize, hiddenSize, opts);
  if (mode === "GRU") return new GRU(inputSize, hiddenSize, opts);
  return new RNN(inputSize, hiddenSize, { ...opts, nonlinearity: mode === "RNN_TANH" ? "tanh" : "relu" });
}

/** Runs any of the three with an optional state; c is null except for LSTM. */
function run(
  m: RNNBase,
  x: Tensor,
  h0: Tensor | null,
  c0: Tensor | null,
): { out: Tensor; h: Tensor; c: Tensor | null } {
  if (m instanceof LSTM) {
    const [out, [h, c]] = m.forward(x, h0 && c0 ? [h0, c0] : null);
    return { out, h, c };
  }
  const [out, h] = (m as RNN | GRU).forward(x, h0);
  return { out, h, c: null };
}

function close(what: string, actual: Tensor | null, expected: FixtureTensor): number {
  assert.ok(actual, `${what}: missing`);
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  const tol = defaultTolerance(expected.dtype);
  const a = actual.toFlatArray();
  const c = compare(a, expected.values, tol, expected.shape);
  if (!c.ok) assert.fail(`${what}: ${describeComparison(c, expected.values.length)}`);
  let worst = 0;
  expected.values.forEach((e, i) => (worst = Math.max(worst, Math.abs(a[i]! - e))));
  return worst;
}

/** Largest absolute error per mode and dtype (values and gradients are O(1)), printed at the end for the report. */
const worstErr = new Map<string, number>();

describe("RNN/LSTM/GRU vs PyTorch", () => {
  for (const c of CASES) {
    test(c.name, () => {
      const m = make(c.mode, c.inputSize, c.hiddenSize, { ...c.options, dtype: c.dtype });
      assert.deepEqual(Object.keys(m.stateDict()), c.keys, "state-dict keys and order");
      assert.deepEqual(
        m.namedParameters().map(([k]) => k),
        c.keys,
        "namedParameters order",
      );
      assert.equal(m.toString(), c.repr);
      m.loadStateDict(Object.fromEntries(c.state.map(([k, t]) => [k, toTensor(t)])));
      const x = toTensor(c.input, true);
      const h0 = c.h0 ? toTensor(c.h0, true) : null;
      const c0 = c.c0 ? toTensor(c.c0, true) : null;
      const r = run(m, x, h0, c0);
      let worst = 0;
      worst = Math.max(worst, close("output", r.out, c.output), close("hN", r.h, c.hN));
      if (c.cN) worst = Math.max(worst, close("cN", r.c, c.cN));
      let loss = r.out
        .mul(toTensor(c.upstream.output!))
        .sum()
        .add(r.h.mul(toTensor(c.upstream.hN!)).sum());
      if (r.c) loss = loss.add(r.c.mul(toTensor(c.upstream.cN!)).sum());
      loss.backward();
      worst = Math.max(worst, close("grad input", x.grad, c.grads.input!));
      if (h0) worst = Math.max(worst, close("grad h0", h0.grad, c.grads.h0!));
      if (c0) worst = Math.max(worst, close("grad c0", c0.grad, c.grads.c0!));
      for (const [k, p] of m.namedParameters()) worst = Math.max(worst, close(`grad ${k}`, p.grad, c.grads[k]!));
      const key = `${c.mode} ${c.dtype}`;
      worstErr.set(key, Math.max(worstErr.get(key) ?? 0, worst));
    });
  }
  test("largest errors (report)", (t) => {
    for (const [k, v] of worstErr) t.diagnostic(`largest |error| ${k}: ${v.toExponential(2)}`);
  });
});

describe("recurrent layers: defaults and options", () => {
  test("default init is U(-1/√H, 1/√H) for every parameter, reproducible under manualSeed", () => {
    manualSeed(7);
    const a = new LSTM(5, 16, { numLayers: 2, bidirectional: true });
    manualSeed(7);
    const b = new LSTM(5, 16, { numLayers: 2, bidirectional: true });
    for (const [[k, p], [, q]] of a.namedParameters().map((e, i) => [e, b.namedParameters()[i]!] as const)) {
      assert.deepEqual(p.toFlatArray(), q.toFlatArray(), k);
      const v = p.toFlatArray();
      assert.ok(
        v.every((x) => Math.abs(x) <= 0.25),
        `${k} within ±1/√16`,
      );
      assert.ok(Math.max(...v) > 0.2 && Math.min(...v) < -0.2, `${k} spans the range`);
      assert.equal(p.dtype, "float32");
    }
    assert.deepEqual(a.stateDict().weight_ih_l1?.shape, [64, 32]);
  });

  test("shapes: batchFirst, bidirectional, unbatched", () => {
    const m = new GRU(4, 6, { numLayers: 3, bidirectional: true, batchFirst: true });
    const [out, h] = m.forward(tensor(new Float32Array(2 * 5 * 4), { shape: [2, 5, 4] }));
    assert.deepEqual(out.shape, [2, 5, 12]);
    assert.deepEqual(h.shape, [6, 2, 6]);
    const l = new LSTM(4, 6);
    const [o2, [h2, c2]] = l.forward(tensor(new Float32Array(5 * 4), { shape: [5, 4] }));
    assert.deepEqual(
      [o2.shape, h2.shape, c2.shape],
      [
        [5, 6],
        [1, 6],
        [1, 6],
      ],
    );
  });

  test("dropout between layers: reproducible under manualSeed, not after the last layer, off in eval", () => {
    manualSeed(3);
    const m = new LSTM(3, 8, { numLayers: 2, dropout: 0.5 });
    const x = tensor(
      Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i)),
      { shape: [5, 2, 3] },
    );
    manualSeed(11);
    const [a] = m.forward(x);
    manualSeed(11);
    const [b] = m.forward(x);
    const [c] = m.forward(x); // the generator moved on: another mask
    assert.deepEqual(a.toFlatArray(), b.toFlatArray());
    assert.notDeepEqual(a.toFlatArray(), c.toFlatArray());
    m.eval();
    const [e1] = m.forward(x);
    const [e2] = m.forward(x);
    assert.deepEqual(e1.toFlatArray(), e2.toFlatArray());
    assert.notDeepEqual(e1.toFlatArray(), a.toFlatArray());
    // Eval equals a dropout-free model with the same weights.
    const ref = new LSTM(3, 8, { numLayers: 2 });
    ref.loadStateDict(m.stateDict());
    assert.deepEqual(ref.forward(x)[0].toFlatArray(), e1.toFlatArray());
    // One layer: nothing follows it, so dropout never applies.
    const one = new GRU(3, 4, { dropout: 0.9 });
    const [t1] = one.forward(x);
    one.eval();
    assert.deepEqual(t1.toFlatArray(), one.forward(x)[0].toFlatArray());
  });

  test("errors name the layer and the shapes", () => {
    const m = new LSTM(4, 3, { numLayers: 2 });
    const x = tensor(new Float32Array(5 * 2 * 4), { shape: [5, 2, 4] });
    const h = tensor(new Float32Array(2 * 2 * 3), { shape: [2, 2, 3] });
    const bad = tensor(new Float32Array(1 * 2 * 3), { shape: [1, 2, 3] });
    assert.throws(
      () => m.forward(tensor(new Float32Array(5 * 2 * 5), { shape: [5, 2, 5] })),
      (e: unknown) => e instanceof DescentError && /^LSTM: .*5 features.*\[5,2,5\].*inputSize 4/.test(e.message),
    );
    assert.throws(
      () => m.forward(x, [bad, h]),
      (e: unknown) =>
        e instanceof DescentError && /^LSTM: expected h0 of shape \[2,2,3\].*got \[1,2,3\]/.test(e.message),
    );
    assert.throws(() => m.forward(x, [h, bad]), /LSTM: expected c0 of shape \[2,2,3\]/);
    assert.throws(() => m.forward(tensor(new Float32Array(4), { shape: [4] })), /LSTM: expected a 3-D input/);
    assert.throws(() => m.forward(x.double()), /LSTM: input dtype float64 does not match the parameters' float32/);
    assert.throws(() => new GRU(3, 4).forward(x.slice(2, 0, 3), h), /GRU: expected hx of shape \[1,2,4\]/);
    assert.throws(() => new RNN(3, 0), /RNN: hiddenSize must be an integer ≥ 1, got 0/);
    assert.throws(() => new RNN(3, 2, { dropout: 1.5 }), /RNN: dropout must be a probability/);
    assert.throws(() => new RNN(3, 2, { nonlinearity: "sigmoid" as "tanh" }), /RNN: nonlinearity/);
  });
});

describe("recurrent layers: gradcheck in float64 (seq 3, batch 2, input 3, hidden 2)", () => {
  const configs: [string, RNNOptions][] = [
    ["1 layer", {}],
    ["2 layers, bidirectional, batchFirst", { numLayers: 2, bidirectional: true, batchFirst: true }],
  ];
  for (const mode of ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"] as const) {
    for (const [label, opts] of configs) {
      test(`${mode}, ${label}`, () => {
        manualSeed(5);
        const m = make(mode, 3, 2, { ...opts, dtype: "float64" });
        const names = m.namedParameters().map(([k]) => k);
        // Parameters enter as gradcheck inputs: assigned as plain tensors, they are read by name.
        const params = m
          .namedParameters()
          .map(([, p], i) => dtensor([...p.shape], { seed: 100 + i, lo: -0.8, hi: 0.8 }));
        const D = opts.bidirectional ? 2 : 1;
        const L = opts.numLayers ?? 1;
        const x = dtensor(opts.batchFirst ? [2, 3, 3] : [3, 2, 3], { seed: 1 });
        const h0 = dtensor([L * D, 2, 2], { seed: 2, lo: -0.5, hi: 0.5 });
        const c0 = dtensor([L * D, 2, 2], { seed: 3, lo: -0.5, hi: 0.5 });
        const fn = (xi: Tensor, hi: Tensor, ci: Tensor, ...ps: Tensor[]) => {
          const slots = m as unknown as Record<string, Tensor>;
          names.forEach((k, i) => (slots[k] = ps[i]!));
          const r = run(m, xi, hi, mode === "LSTM" ? ci : null);
          return cat([r.out.flatten(), r.h.flatten(), ...(r.c ? [r.c.flatten()] : [])]);
        };
        gradcheck(fn, [x, h0, c0, ...params]);
      });
    }
  }
});

describe("recurrent layers: inference", () => {
  test("noGrad records nothing", () => {
    const m = new GRU(3, 4, { numLayers: 2 });
    const [out, h] = noGrad(() => m.forward(tensor(new Float32Array(2 * 1 * 3), { shape: [2, 1, 3] })));
    assert.equal(out.requiresGrad, false);
    assert.equal(h.gradFn, null);
  });
});
