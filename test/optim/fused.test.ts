// The optimizers end to end, fused against op by op (src/tensor/fused.ts picks the backend's
// acceleration for contiguous tensors, the rule of src/backends/fallback/optim.ts otherwise), on
// whichever backend the suite runs: the same parameters are stepped once as contiguous tensors
// (fused) and once as transposed views (not fusable, so op-by-op), with the same gradients, and
// every parameter and state value must be bit-identical after each step — float32 and float64,
// every option that changes the update, sizes that stay in js and sizes the native backend hands
// to the addon, and gradients with NaN and ±Inf.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { noGrad, tensor, type Tensor } from "../../src/index.js";
import { accelerations } from "../../src/backends/index.js";
import { Adagrad } from "../../src/optim/adagrad.js";
import { Adam, AdamW } from "../../src/optim/adam.js";
import type { Optimizer } from "../../src/optim/optimizer.js";
import { RMSprop } from "../../src/optim/rmsprop.js";
import { SGD } from "../../src/optim/sgd.js";
import { makeRng } from "../helpers/gradcheck.js";

type DT = "float32" | "float64";
type Make = (params: Tensor[]) => Optimizer<{ lr: number }>;

const CASES: [string, Make][] = [
  ["Adam", (p) => new Adam(p, { lr: 0.01 })],
  ["Adam weightDecay", (p) => new Adam(p, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.9] })],
  ["Adam amsgrad maximize", (p) => new Adam(p, { lr: 0.01, amsgrad: true, maximize: true })],
  ["AdamW", (p) => new AdamW(p, { lr: 0.01 })],
  ["AdamW amsgrad weightDecay", (p) => new AdamW(p, { lr: 0.02, weightDecay: 0.3, amsgrad: true, eps: 1e-3 })],
  ["SGD", (p) => new SGD(p, { lr: 0.1 })],
  ["SGD weightDecay maximize", (p) => new SGD(p, { lr: 0.1, weightDecay: 0.01, maximize: true })],
  ["SGD momentum", (p) => new SGD(p, { lr: 0.1, momentum: 0.9 })],
  ["SGD momentum dampening", (p) => new SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.3, weightDecay: 0.02 })],
  ["SGD nesterov", (p) => new SGD(p, { lr: 0.1, momentum: 0.8, nesterov: true, maximize: true })],
  ["RMSprop", (p) => new RMSprop(p, { lr: 0.01 })],
  ["RMSprop centered", (p) => new RMSprop(p, { lr: 0.01, centered: true, alpha: 0.9 })],
  ["RMSprop momentum weightDecay", (p) => new RMSprop(p, { lr: 0.01, momentum: 0.5, weightDecay: 0.1 })],
  ["RMSprop all", (p) => new RMSprop(p, { lr: 0.01, centered: true, momentum: 0.5, maximize: true, eps: 1e-4 })],
  ["Adagrad", (p) => new Adagrad(p, { lr: 0.1 })],
  [
    "Adagrad lrDecay weightDecay",
    (p) => new Adagrad(p, { lr: 0.1, lrDecay: 0.01, weightDecay: 0.1, initialAccumulatorValue: 0.5, maximize: true }),
  ],
];

/** rows×cols values from a seeded generator, scaled; `hostile` puts NaN and ±Inf at fixed places. */
function values(n: number, seed: number, scale: number, hostile = false): number[] {
  const rng = makeRng(seed);
  const v = Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
  if (hostile && n >= 3) [v[0], v[1], v[2]] = [NaN, Infinity, -Infinity];
  return v;
}

/** A [rows, cols] parameter: contiguous, or the transpose of a [cols, rows] tensor (same values). */
function param(vals: number[], rows: number, cols: number, dtype: DT, view: boolean): Tensor {
  if (!view) return tensor(vals, { shape: [rows, cols], dtype }).requiresGrad_();
  const t = new Array<number>(vals.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = vals[i * cols + j]!;
  return noGrad(() => tensor(t, { shape: [cols, rows], dtype }).transpose(0, 1)).requiresGrad_();
}

function assertSame(a: Tensor, b: Tensor, what: string): void {
  const x = a.toFlatArray();
  const y = b.toFlatArray();
  assert.equal(x.length, y.length, what);
  for (let i = 0; i < x.length; i++) {
    if (!Object.is(x[i], y[i])) assert.fail(`${what}: element ${i} is ${x[i]} fused, ${y[i]} op-by-op`);
  }
}

function run(make: Make, dtype: DT, rows: number, cols: number, hostile: boolean): void {
  const n = rows * cols;
  const init = values(n, 1, 1);
  const fusedP = param(init, rows, cols, dtype, false);
  const plainP = param(init, rows, cols, dtype, true);
  if (rows > 1 && cols > 1) assert.equal(plainP.isContiguous(), false, "the op-by-op side must not be fusable");
  const fused = make([fusedP]);
  const plain = make([plainP]);
  for (let step = 0; step < 4; step++) {
    const g = values(n, 10 + step, 2, hostile && step === 1);
    fusedP.grad = tensor(g, { shape: [rows, cols], dtype });
    plainP.grad = tensor(g, { shape: [rows, cols], dtype });
    fused.step();
    plain.step();
    assertSame(fusedP, plainP, `step ${step + 1}: parameter`);
    const sf = fused.state.get(fusedP)!;
    const sp = plain.state.get(plainP)!;
    assert.deepEqual(Object.keys(sf).sort(), Object.keys(sp).sort(), "state keys");
    for (const [k, v] of Object.entries(sf)) {
      const w = sp[k];
      if (v !== null && typeof v === "object") assertSame(v, w as Tensor, `step ${step + 1}: state ${k}`);
      else assert.equal(v, w, `state ${k}`);
    }
  }
}

// [rows, cols]: 1 element, odd small sizes (js kernels on native), larger ones (the addon).
const SHAPES: [number, number][] = [
  [1, 1],
  [3, 1],
  [17, 3],
  [257, 5],
  [181, 191],
];

describe("fused optimizer updates equal the op-by-op form bit for bit", () => {
  for (const [name, make] of CASES) {
    test(name, () => {
      for (const dtype of ["float32", "float64"] as const) {
        for (const [r, c] of SHAPES) run(make, dtype, r, c, false);
        run(make, dtype, 17, 19, true);
      }
    });
  }

  test("the fused acceleration runs once per contiguous parameter and never for a view", () => {
    const k = accelerations() as unknown as Record<string, (...a: unknown[]) => void>;
    for (const [name, make] of CASES) {
      const kernel = name.startsWith("Adam")
        ? "adamStep"
        : name.startsWith("SGD")
          ? "sgdStep"
          : name.startsWith("RMS")
            ? "rmspropStep"
            : "adagradStep";
      const original = k[kernel]!;
      let calls = 0;
      k[kernel] = (...a: unknown[]) => {
        calls++;
        original(...a);
      };
      try {
        const p = param(values(12, 1, 1), 3, 4, "float32", false);
        const q = param(values(12, 1, 1), 3, 4, "float32", true);
        p.grad = tensor(values(12, 2, 1), { shape: [3, 4] });
        q.grad = tensor(values(12, 2, 1), { shape: [3, 4] });
        make([p, q]).step();
        assert.equal(calls, 1, `${name}: ${kernel} calls`);
      } finally {
        k[kernel] = original;
      }
    }
  });
});
