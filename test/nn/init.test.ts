// nn.init against PyTorch (test/fixtures/nn_core.json): fan-in/fan-out and gains exactly, and the
// distributions of every initialiser and of the layers' default initialisation statistically
// (mean, std and bounds within sampling tolerance of PyTorch's theoretical values, and of the
// statistics of a PyTorch draw of the same size). Plus orthogonal_ and the errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { manualSeed, zeros, DescentError, type Tensor } from "../../src/index.js";
import { Parameter } from "../../src/nn/module.js";
import * as init from "../../src/nn/init.js";
import { Linear } from "../../src/nn/layers/linear.js";
import { Embedding } from "../../src/nn/layers/embedding.js";
import { decodeSpecials, FIXTURE_DIR, type FixtureTensor } from "../helpers/checkOp.js";

interface Stats {
  mean: number;
  std: number;
  min: number;
  max: number;
  n: number;
}
interface InitCase {
  name: string;
  shape: number[];
  fn?: string;
  opts?: Record<string, unknown>;
  layer?: string;
  args?: number[];
  param?: string;
  bound: [number, number] | null;
  std: number;
  torch: Stats;
  paddingRow?: FixtureTensor;
}
const fx = decodeSpecials(JSON.parse(readFileSync(join(FIXTURE_DIR, "nn_core.json"), "utf8"))) as {
  fans: { shape: number[]; fanIn: number; fanOut: number }[];
  gains: { nonlinearity: init.Nonlinearity; param: number | null; gain: number }[];
  initStats: InitCase[];
};

function stats(t: Tensor): Stats {
  const v = t.toFlatArray();
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    s += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = s / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (v.length - 1)), min, max, n: v.length };
}

test("calculateFanInAndFanOut matches PyTorch (receptive field for conv weights)", () => {
  for (const c of fx.fans) assert.deepEqual(init.calculateFanInAndFanOut(zeros(c.shape)), [c.fanIn, c.fanOut]);
  assert.throws(() => init.calculateFanInAndFanOut(zeros([5])), /calculateFanInAndFanOut: .*fewer than 2 dimensions/);
});

test("calculateGain matches PyTorch for every nonlinearity", () => {
  for (const g of fx.gains) {
    const got = init.calculateGain(g.nonlinearity, g.param ?? undefined);
    assert.ok(Math.abs(got - g.gain) <= 1e-15 * g.gain, `${g.nonlinearity}(${g.param}): ${got} vs ${g.gain}`);
  }
  assert.equal(init.calculateGain("leakyRelu", 0.2), init.calculateGain("leaky_relu", 0.2));
  assert.throws(
    () => init.calculateGain("softplus" as init.Nonlinearity),
    /calculateGain: unsupported nonlinearity softplus/,
  );
});

function draw(c: InitCase): Tensor {
  if (c.layer === "Linear") return new Linear(c.args![0]!, c.args![1]!)[c.param as "weight" | "bias"]!;
  if (c.layer === "Embedding") return new Embedding(c.args![0]!, c.args![1]!, c.opts).weight;
  const t = new Parameter(zeros(c.shape)); // a Parameter: the initialisers must work under noGrad
  const o = c.opts ?? {};
  switch (c.fn) {
    case "uniform_":
      return init.uniform_(t, o as { a: number; b: number });
    case "normal_":
      return init.normal_(t, o as { mean: number; std: number });
    case "constant_":
      return init.constant_(t, o.val as number);
    case "xavierUniform_":
      return init.xavierUniform_(t, o);
    case "xavierNormal_":
      return init.xavierNormal_(t, o);
    case "kaimingUniform_":
      return init.kaimingUniform_(t, o);
    case "kaimingNormal_":
      return init.kaimingNormal_(t, o);
    default:
      throw new Error(`unknown init ${c.fn}`);
  }
}

for (const c of fx.initStats) {
  test(`init distribution vs PyTorch: ${c.name}`, () => {
    manualSeed(2024);
    let t = draw(c);
    assert.deepEqual(t.shape, c.shape);
    if (c.paddingRow) {
      assert.deepEqual([...t.select(0, 3).toFlatArray()], c.paddingRow.values);
      t = t.reshape([-1]); // statistics over the other rows, as the fixture
      const v = t.toFlatArray();
      const w = c.shape[1]!;
      t = zeros([v.length - w]).writeFlat_(Float32Array.from([...v.slice(0, 3 * w), ...v.slice(4 * w)]));
    }
    const s = stats(t);
    const mean =
      c.fn === "uniform_" ? (c.bound![0] + c.bound![1]) / 2 : c.fn === "normal_" ? 1.5 : c.fn === "constant_" ? 0.3 : 0;
    // Five standard errors: of the mean σ/√n, of the sample std about σ/√(2n) (normal; smaller for uniform).
    const seMean = (5 * c.std) / Math.sqrt(s.n);
    const seStd = (5 * c.std) / Math.sqrt(2 * s.n);
    assert.ok(Math.abs(s.mean - mean) <= seMean + 1e-7, `mean ${s.mean} vs ${mean}`);
    assert.ok(Math.abs(s.std - c.std) <= seStd + 1e-7, `std ${s.std} vs theoretical ${c.std}`);
    assert.ok(Math.abs(s.std - c.torch.std) <= 2 * seStd + 1e-7, `std ${s.std} vs PyTorch's draw ${c.torch.std}`);
    if (c.bound) {
      const [lo, hi] = c.bound;
      const f32 = 1e-7 * Math.max(Math.abs(lo), Math.abs(hi)); // float32 rounding of the bound
      assert.ok(s.min >= lo - f32 && s.max <= hi + f32, `range [${s.min}, ${s.max}] outside [${lo}, ${hi}]`);
      // With n draws the extremes come within a few (hi - lo)/n of the bounds, as PyTorch's do.
      const slack = ((hi - lo) * 20) / s.n + f32;
      assert.ok(s.min <= lo + slack && s.max >= hi - slack, `range [${s.min}, ${s.max}] does not reach [${lo}, ${hi}]`);
      assert.ok(c.torch.min >= lo - f32 && c.torch.max <= hi + f32);
    }
  });
}

test("init functions return the same tensor, work on parameters and are reproducible under manualSeed", () => {
  const p = new Parameter(zeros([8, 5]));
  manualSeed(9);
  assert.equal(init.kaimingNormal_(p), p);
  const a = [...p.toFlatArray()];
  manualSeed(9);
  init.kaimingNormal_(p);
  assert.deepEqual([...p.toFlatArray()], a);
  assert.equal(p.requiresGrad, true);
  assert.equal(init.zeros_(p), p);
  assert.deepEqual(new Set(p.toFlatArray()), new Set([0]));
  init.ones_(p);
  assert.deepEqual(new Set(p.toFlatArray()), new Set([1]));
  init.uniform_(p, -1, 1); // positional form too
  assert.ok(p.toFlatArray().every((v) => v >= -1 && v < 1));
  assert.throws(() => init.kaimingUniform_(p, { mode: "fanAvg" as "fanIn" }), /kaimingUniform_: mode fanAvg/);
  assert.throws(() => init.xavierUniform_(zeros([4])), /fewer than 2 dimensions/);
  assert.throws(() => init.normal_(p, 0, -1), /normal_: std must be non-negative/);
  assert.throws(() => init.uniform_(zeros([2], { dtype: "int32" })), DescentError);
  // fanOut uses dim 0 × receptive field: a [6, 2, 5] weight with relu has std √2/√30.
  manualSeed(1);
  const big = init.kaimingNormal_(zeros([600, 20, 50]), { mode: "fanOut", nonlinearity: "relu" });
  const s = stats(big);
  assert.ok(Math.abs(s.std - Math.SQRT2 / Math.sqrt(30000)) < 0.01 * s.std);
});

function gram(q: number[][], rowsAreVectors: boolean): number[][] {
  const n = rowsAreVectors ? q.length : q[0]!.length;
  const m = rowsAreVectors ? q[0]!.length : q.length;
  const at = (v: number, i: number) => (rowsAreVectors ? q[v]![i]! : q[i]![v]!);
  return Array.from({ length: n }, (_, a) =>
    Array.from({ length: n }, (_, b) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += at(a, i) * at(b, i);
      return s;
    }),
  );
}

test("orthogonal_: orthonormal rows or columns (float64 QR), gain, conv shapes, Haar sign convention", () => {
  manualSeed(4);
  for (const [shape, gain] of [
    [[6, 4], 1],
    [[4, 6], 2],
    [[5, 5], 1.5],
    [[3, 2, 4], 1],
  ] as [number[], number][]) {
    const t = init.orthogonal_(zeros(shape, { dtype: "float64" }), { gain });
    const rows = shape[0]!;
    const q = t.reshape([rows, -1]).toArray() as number[][];
    const cols = q[0]!.length;
    const g = gram(q, rows <= cols); // rows orthonormal when wide, columns when tall
    g.forEach((r, i) =>
      r.forEach((v, j) =>
        assert.ok(Math.abs(v - (i === j ? gain * gain : 0)) < 1e-12, `${shape}: G[${i}][${j}] = ${v}`),
      ),
    );
  }
  // PyTorch multiplies Q by sign(diag(R)), which makes Q Haar distributed: E[Q00] = 0. Without the
  // correction a Householder QR gives a biased first entry.
  let sum = 0;
  const n = 400;
  for (let i = 0; i < n; i++)
    sum += (init.orthogonal_(zeros([3, 3], { dtype: "float64" })).toArray() as number[][])[0]![0]!;
  assert.ok(Math.abs(sum / n) < 5 * Math.sqrt(1 / 3 / n), `mean Q00 ${sum / n}`);
  assert.throws(() => init.orthogonal_(zeros([3])), /orthogonal_: only tensors with 2 or more dimensions/);
  assert.equal(init.orthogonal_(zeros([0, 3])).size, 0);
  // A Parameter works (noGrad inside) and float32 keeps orthogonality to float32 precision.
  const p = init.orthogonal_(new Parameter(zeros([8, 8])));
  const gp = gram(p.toArray() as number[][], true);
  gp.forEach((r, i) => r.forEach((v, j) => assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-6)));
});
