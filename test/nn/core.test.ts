// The core layers (Linear, Identity, Flatten, activations, Dropout, Embedding, LayerNorm,
// Sequential, ModuleList) against PyTorch (test/fixtures/nn_core.json from
// scripts/fixtures_nn_core.py): outputs, input and parameter gradients, state-dict keys and reprs.
// Also gradcheck in float64 for every layer, Dropout statistics and the layers' errors.
//
// Tolerances: float32 rtol 1e-5 / atol 1e-6 (checkOp's defaults: a few ulps of accumulation order).

import { test } from "node:test";
import assert from "node:assert/strict";

import { manualSeed, tensor, ones, zeros, randn, DescentError, type Tensor } from "../../src/index.js";
import { Parameter, type Module } from "../../src/nn/module.js";
import { Flatten, Identity, Linear } from "../../src/nn/layers/linear.js";
import { ModuleList, Sequential } from "../../src/nn/layers/container.js";
import {
  ELU,
  GELU,
  LeakyReLU,
  LogSoftmax,
  PReLU,
  ReLU,
  SiLU,
  Sigmoid,
  Softmax,
  Tanh,
} from "../../src/nn/layers/activation.js";
import { pyFloat } from "../../src/nn/repr.js";
import { Dropout } from "../../src/nn/layers/dropout.js";
import { Embedding } from "../../src/nn/layers/embedding.js";
import { LayerNorm } from "../../src/nn/layers/layernorm.js";
import * as F from "../../src/nn/functional/activation.js";
import { assertAllclose } from "../helpers/allclose.js";
import { gradcheck, dtensor } from "../helpers/gradcheck.js";
import { decodeSpecials, FIXTURE_DIR, toTensor, type FixtureTensor } from "../helpers/checkOp.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";

interface LayerCase {
  name: string;
  cls: string;
  args: unknown[];
  opts: Record<string, unknown>;
  train: boolean;
  state: Record<string, FixtureTensor>;
  input: FixtureTensor;
  output: FixtureTensor;
  upstream: FixtureTensor;
  inputGrad: FixtureTensor | null;
  paramGrads: Record<string, FixtureTensor | null>;
  repr: string;
}
interface Nested {
  state: Record<string, FixtureTensor>;
  keys: string[];
  paramNames: string[];
  repr: string;
  input: FixtureTensor;
  output: FixtureTensor;
  upstream: FixtureTensor;
  inputGrad: FixtureTensor;
  paramGrads: Record<string, FixtureTensor>;
  moduleListRepr: string;
  moduleListKeys: string[];
}
export const fixture = decodeSpecials(JSON.parse(readFileSync(join(FIXTURE_DIR, "nn_core.json"), "utf8"))) as {
  layers: LayerCase[];
  nested: Nested;
};

/** The Descent module for a fixture's constructor spec (positional args + camelCase options). */
function make(cls: string, args: unknown[], opts: Record<string, unknown>): Module {
  const n = args as number[];
  switch (cls) {
    case "Linear":
      return new Linear(n[0]!, n[1]!, opts);
    case "Identity":
      return new Identity();
    case "Flatten":
      return new Flatten(...n);
    case "ReLU":
      return new ReLU();
    case "LeakyReLU":
      return new LeakyReLU(...n);
    case "PReLU":
      return new PReLU(...n);
    case "ELU":
      return new ELU(...n);
    case "GELU":
      return new GELU(opts);
    case "SiLU":
      return new SiLU();
    case "Sigmoid":
      return new Sigmoid();
    case "Tanh":
      return new Tanh();
    case "Softmax":
      return new Softmax(n[0]!);
    case "LogSoftmax":
      return new LogSoftmax(n[0]!);
    case "Dropout":
      return new Dropout(n[0]!);
    case "Embedding":
      return new Embedding(n[0]!, n[1]!, opts);
    case "LayerNorm":
      return new LayerNorm(args[0] as number | number[], opts);
    default:
      throw new Error(`unknown class ${cls}`);
  }
}

function loadState(m: Module, state: Record<string, FixtureTensor>): void {
  assert.deepEqual(Object.keys(m.stateDict()), Object.keys(state), "state-dict keys and order");
  m.loadStateDict(Object.fromEntries(Object.entries(state).map(([k, v]) => [k, toTensor(v)])));
}

const F32 = { rtol: 1e-5, atol: 1e-6 };
const fwd = (m: Module, x: Tensor) => (m.forward as (x: Tensor) => Tensor)(x);

/** Forward, backward(upstream), and every comparison with PyTorch; returns the largest relative error. */
function replay(m: Module, c: Omit<LayerCase, "name" | "cls" | "args" | "opts" | "train" | "repr">): void {
  loadState(m, c.state);
  const x = toTensor(c.input, c.inputGrad !== null);
  const out = fwd(m, x);
  assert.deepEqual(out.shape, c.output.shape, "output shape");
  assertAllclose(out, c.output.values, { ...F32, message: "output" });
  out.backward(toTensor(c.upstream));
  if (c.inputGrad) assertAllclose(x.grad!, c.inputGrad.values, { ...F32, message: "input grad" });
  const params = Object.fromEntries(m.namedParameters());
  assert.deepEqual(Object.keys(params), Object.keys(c.paramGrads), "parameter names");
  for (const [k, g] of Object.entries(c.paramGrads)) {
    if (g === null) assert.equal(params[k]!.grad, null, `${k} should get no grad`);
    else assertAllclose(params[k]!.grad!, g.values, { ...F32, message: `grad of ${k}` });
  }
}

for (const c of fixture.layers) {
  test(`nn core vs PyTorch: ${c.name}`, () => {
    const m = make(c.cls, c.args, c.opts);
    m.train(c.train);
    assert.equal(m.toString(), c.repr);
    replay(m, c);
  });
}

function buildNested(): Sequential {
  return new Sequential(
    new Linear(4, 8),
    new ReLU(),
    new Sequential(new Linear(8, 8), new Tanh(), new LayerNorm(8)),
    new Dropout(0.1),
    new PReLU(8),
    new Linear(8, 2, { bias: false }),
    new LogSoftmax(1),
  );
}

test("nested Sequential: keys, names, repr, forward and gradients vs PyTorch", () => {
  const n = fixture.nested;
  const m = buildNested().eval();
  assert.deepEqual(Object.keys(m.stateDict()), n.keys);
  assert.deepEqual(
    m.namedParameters().map(([k]) => k),
    n.paramNames,
  );
  assert.equal(m.toString(), n.repr);
  replay(m, n);
});

test("ModuleList: repr and state-dict keys vs PyTorch; push, length, at, iteration", () => {
  const ml = new ModuleList<Module>([
    new Linear(2, 3),
    new GELU(),
    new Embedding(4, 2, { paddingIdx: 0 }),
    new Flatten(),
    new ELU(),
    new LeakyReLU(),
    new Identity(),
    new SiLU(),
    new Softmax(0),
  ]);
  assert.equal(ml.push(new LayerNorm([2, 3], { elementwiseAffine: false })), 10);
  assert.equal(ml.toString(), fixture.nested.moduleListRepr);
  assert.deepEqual(Object.keys(ml.stateDict()), fixture.nested.moduleListKeys);
  assert.equal(ml.length, 10);
  assert.ok(ml.at(-1) instanceof LayerNorm);
  assert.ok(ml.at(2) instanceof Embedding);
  assert.equal([...ml].length, 10);
  assert.throws(() => ml.at(10), DescentError);
  assert.throws(() => ml.forward(), /ModuleList/);
  const seq = new Sequential(new Linear(2, 2), new ReLU());
  assert.equal(seq.length, 2);
  seq.append(new Tanh());
  assert.ok(seq.at(-1) instanceof Tanh);
  assert.deepEqual(Object.keys(seq.stateDict()), ["0.weight", "0.bias"]);
  // The named form, as Sequential(OrderedDict(...)).
  const named = new Sequential({ fc: new Linear(2, 2), act: new ReLU() });
  assert.deepEqual(Object.keys(named.stateDict()), ["fc.weight", "fc.bias"]);
  assert.throws(() => new Sequential(3 as unknown as Module), /Sequential: argument 0 is not a Module/);
});

test("Sequential with more than 10 children keeps numeric order (0, 1, …, 10, 11)", () => {
  const seq = new Sequential(...Array.from({ length: 12 }, () => new Linear(1, 1)));
  assert.deepEqual(
    seq.namedParameters().map(([k]) => k),
    Array.from({ length: 12 }, (_, i) => [`${i}.weight`, `${i}.bias`]).flat(),
  );
});

// ---- gradcheck in float64 ----
const d = { dtype: "float64" as const };
const gc: [string, () => [Module, Tensor]][] = [
  ["Linear", () => [new Linear(3, 2, d), dtensor([4, 3])]],
  ["Linear no bias 3-D", () => [new Linear(3, 2, { bias: false, dtype: "float64" }), dtensor([2, 2, 3])]],
  ["Flatten", () => [new Flatten(), dtensor([2, 3, 2])]],
  ["LeakyReLU", () => [new LeakyReLU(0.2), dtensor([3, 4], { lo: 0.05, hi: 1, signed: true })]],
  ["ReLU", () => [new ReLU(), dtensor([3, 4], { lo: 0.05, hi: 1, signed: true })]],
  ["PReLU shared", () => [new PReLU(1, 0.25, d), dtensor([3, 2, 2], { lo: 0.05, hi: 1, signed: true })]],
  ["PReLU channels", () => [new PReLU(2, 0.3, d), dtensor([3, 2, 2], { lo: 0.05, hi: 1, signed: true })]],
  ["ELU", () => [new ELU(0.7), dtensor([3, 4], { lo: 0.05, hi: 1, signed: true })]],
  ["GELU", () => [new GELU(), dtensor([3, 4])]],
  ["GELU tanh", () => [new GELU({ approximate: "tanh" }), dtensor([3, 4])]],
  ["SiLU", () => [new SiLU(), dtensor([3, 4])]],
  ["Sigmoid", () => [new Sigmoid(), dtensor([3, 4])]],
  ["Tanh", () => [new Tanh(), dtensor([3, 4])]],
  ["Softmax", () => [new Softmax(1), dtensor([2, 3, 2])]],
  ["LogSoftmax", () => [new LogSoftmax(-1), dtensor([2, 3, 2])]],
  ["LayerNorm", () => [new LayerNorm([2, 3], d), dtensor([2, 2, 3])]],
  ["LayerNorm no affine", () => [new LayerNorm(4, { elementwiseAffine: false, dtype: "float64" }), dtensor([3, 4])]],
];
for (const [name, build] of gc) {
  test(`gradcheck float64: ${name} (input and every parameter)`, () => {
    manualSeed(7);
    const [m, x] = build();
    const params = m.namedParameters();
    for (const [, p] of params) {
      // Non-trivial parameter values (LayerNorm's ones/zeros would hide mistakes).
      p.requiresGrad = false;
      p.copy_(dtensor([...p.shape], { requiresGrad: false, lo: 0.2, hi: 1.2 }));
      p.requiresGrad = true;
    }
    gradcheck(
      (xi, ...ps) => {
        const saved = params.map(([k]) => k);
        const target = m as unknown as Record<string, unknown>;
        // Swap the perturbed parameter tensors into the module for this call (single-level modules only).
        saved.forEach((k, i) => (target[k] = ps[i]));
        const y = fwd(m, xi!);
        saved.forEach((k, i) => (target[k] = params[i]![1]));
        return y;
      },
      [x, ...params.map(([, p]) => p.detach().requiresGrad_(true))],
    );
  });
}

test("gradcheck float64: Embedding (weight) with a padding row, which gets no gradient", () => {
  const idx = tensor(new Int32Array([1, 2, 0, 2, 3, 1]), { shape: [2, 3] });
  const w = dtensor([4, 3]);
  // Without padding: the true derivative. With padding the padding row's gradient is zeroed on
  // purpose (PyTorch's semantics), which a numerical check would rightly flag.
  gradcheck((wi) => F.embedding(idx, wi!), [w]);
  const w2 = dtensor([4, 3]);
  F.embedding(idx, w2, 2)
    .mul(dtensor([2, 3, 3], { requiresGrad: false }))
    .sum()
    .backward();
  assert.deepEqual([...w2.grad!.select(0, 2).toFlatArray()], [0, 0, 0]);
  assert.notDeepEqual([...w2.grad!.select(0, 1).toFlatArray()], [0, 0, 0]);
});

test("gradcheck float64: dropout (the same mask each call: reseeded), Identity", () => {
  gradcheck(
    (xi) => {
      manualSeed(3);
      return new Dropout(0.4).forward(xi!);
    },
    [dtensor([4, 5])],
  );
  gradcheck((xi) => new Identity().forward(xi!).mul(1), [dtensor([2, 3])]);
});

test("gradcheck float64: nested Sequential w.r.t. its input", () => {
  manualSeed(3);
  const m = new Sequential(
    new Linear(3, 4, d),
    new Tanh(),
    new Sequential(new Linear(4, 4, d), new LayerNorm(4, d)),
    new PReLU(4, 0.2, d),
    new Linear(4, 2, d),
    new LogSoftmax(1),
  );
  gradcheck((xi) => m.forward(xi!), [dtensor([3, 3])]);
});

// ---- Dropout ----
test("Dropout: inverted scaling, keep rate, identity in eval, reproducible under manualSeed", () => {
  const x = ones([200, 500]);
  const drop = new Dropout(0.3);
  manualSeed(123);
  const y = drop.forward(x);
  const vals = y.toFlatArray();
  const kept = vals.filter((v) => v !== 0);
  // Every survivor is 1/(1-p); the kept fraction is 0.7 within 5 standard deviations of a binomial.
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6));
  const n = vals.length;
  const sd = Math.sqrt((0.3 * 0.7) / n);
  assert.ok(Math.abs(kept.length / n - 0.7) < 5 * sd, `kept fraction ${kept.length / n}`);
  assert.ok(Math.abs(y.mean().item() - 1) < (5 * sd) / 0.7);
  manualSeed(123);
  assert.deepEqual([...drop.forward(x).toFlatArray()], [...vals]);
  drop.eval();
  assert.equal(drop.forward(x), x);
  drop.train();
  // Gradient: the same mask, scaled.
  const xr = randn([4, 6], { requiresGrad: true });
  manualSeed(5);
  const out = drop.forward(xr);
  out.sum().backward();
  const mask = out.div(xr).toFlatArray();
  assertAllclose(xr.grad!, mask, { rtol: 1e-6 });
  assert.equal(new Dropout(0).forward(x), x);
  assert.deepEqual([...new Set(new Dropout(1).forward(x).toFlatArray())], [0]);
  for (const p of [-0.1, 1.5, NaN])
    assert.throws(() => new Dropout(p), /Dropout: dropout probability has to be between 0 and 1/);
  assert.throws(() => F.dropout(x, 2), /dropout: dropout probability/);
});

// ---- errors ----
test("layers refuse bad shapes, dtypes and arguments with DescentError naming the layer", () => {
  assert.throws(() => new Linear(3, 2).forward(zeros([4, 5])), /linear: input \[4,5\] does not match weight \[2,3\]/);
  assert.throws(() => new Linear(3, 2).forward(zeros([4, 3], { dtype: "float64" })), /linear: input is float64/);
  assert.throws(() => new Linear(-1, 2), /Linear: inFeatures/);
  assert.throws(
    () => new Embedding(5, 2).forward(tensor(new Int32Array([5]))),
    /embedding: index 5 is out of range for 5/,
  );
  assert.throws(() => new Embedding(5, 2).forward(tensor(new Int32Array([-1]))), /embedding: index -1/);
  assert.throws(() => new Embedding(5, 2).forward(zeros([2])), /embedding: indices must be int32/);
  assert.throws(
    () => new Embedding(5, 2, { paddingIdx: 5 }),
    /Embedding: paddingIdx 5 must be an integer within \[-5, 5\)/,
  );
  assert.throws(
    () => new LayerNorm(4).forward(zeros([2, 3])),
    /layerNorm: input \[2,3\] does not end with the normalized shape \[4\]/,
  );
  assert.throws(() => new PReLU(3).forward(zeros([2, 4])), /prelu: 3 weights need an input with 3 channels/);
  assert.throws(() => new PReLU(0), /PReLU: numParameters/);
  assert.throws(() => new Softmax(2).forward(zeros([2, 3])), DescentError);
  assert.throws(() => new GELU({ approximate: "fast" as "tanh" }), /GELU: approximate/);
  assert.throws(() => new Flatten(2, 0).forward(zeros([2, 3, 4])), /flatten/);
});

test("Embedding: the padding row starts at zero (negative paddingIdx counts from the end); fromPretrained", () => {
  manualSeed(1);
  const e = new Embedding(6, 3, { paddingIdx: -2 });
  assert.equal(e.paddingIdx, 4);
  assert.deepEqual([...e.weight.select(0, 4).toFlatArray()], [0, 0, 0]);
  assert.equal(e.toString(), "Embedding(6, 3, padding_idx=4)");
  const pre = Embedding.fromPretrained(
    tensor([
      [1, 2],
      [3, 4],
    ]),
  );
  assert.equal(pre.weight.requiresGrad, false);
  assert.deepEqual(pre.forward(tensor(new Int32Array([1]))).toArray(), [[3, 4]]);
});

test("pyFloat prints numbers as Python's repr of a float", () => {
  const cases: [number, string][] = [
    [1, "1.0"],
    [0.01, "0.01"],
    [1e-5, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [0.0001, "0.0001"],
    [1e16, "1e+16"],
    [123.25, "123.25"],
    [-0, "-0.0"],
    [Infinity, "inf"],
  ];
  for (const [v, s] of cases) assert.equal(pyFloat(v), s);
});

// The tensor layer makes every op's output through an input (src/tensor/apply.ts): from a
// Parameter that must still be a plain Tensor, or an activation would count as a parameter.
test("ops, detach and newZeros on a Parameter give plain Tensors", () => {
  const p = new Parameter(tensor([1, 2, 3]));
  for (const t of [p.mul(2), p.add(1), p.reshape([3, 1]), p.detach(), p.newZeros([2]), p.clone()]) {
    assert.ok(!(t instanceof Parameter), `${t.toString()} is a Parameter`);
  }
  const y = p.mul(2);
  assert.equal(y.gradFn?.op.name, "mul");
  assert.equal(p.detach().requiresGrad, false);
});

// Issue 11 #13: a submodule assigned to two attributes (a shared encoder). PyTorch's state_dict
// recurses over _modules without removing duplicates, so the encoder's tensors appear under both
// names (sharing storage), while parameters()/named_parameters() list each tensor once.
test("a shared submodule is in stateDict under every name; either key loads it", () => {
  class Twin extends Sequential {}
  const make = () => {
    const enc = new Linear(3, 2);
    const m = new Twin({ a: enc, b: enc, head: new Linear(2, 1) });
    return { m, enc };
  };
  const { m, enc } = make();
  assert.deepEqual(Object.keys(m.stateDict()), [
    "a.weight",
    "a.bias",
    "b.weight",
    "b.bias",
    "head.weight",
    "head.bias",
  ]);
  assert.deepEqual(
    m.namedParameters().map(([k]) => k),
    ["a.weight", "a.bias", "head.weight", "head.bias"],
  );
  assert.equal(m.parameters().length, 4);
  // The reproducer: a file keyed by the second name only, loaded non-strictly, used to leave the
  // encoder at its random initialisation.
  const file = { "b.weight": randn([2, 3]), "b.bias": randn([2]) };
  const r = m.loadStateDict(file, { strict: false });
  assert.deepEqual(enc.weight.toFlatArray(), file["b.weight"].toFlatArray());
  assert.deepEqual(enc.bias!.toFlatArray(), file["b.bias"].toFlatArray());
  assert.deepEqual(r.missingKeys, ["a.weight", "a.bias", "head.weight", "head.bias"]);
  assert.deepEqual(r.unexpectedKeys, []);
  // And a full round trip through the shared names.
  const { m: m2, enc: enc2 } = make();
  m2.loadStateDict(m.stateDict());
  assert.deepEqual(enc2.weight.toFlatArray(), enc.weight.toFlatArray());
  // A module that contains itself is cut, not recursed on forever.
  const loop = new Sequential(new Linear(1, 1));
  (loop as unknown as Record<string, unknown>).self = loop;
  assert.deepEqual(Object.keys(loop.stateDict()), ["0.weight", "0.bias"]);
});
