// Parity of the native fused LSTM / GRU cells (native/rnn.cc) with the js reference
// (src/backends/js/rnn.ts) on every instruction set this CPU has: B = 1, 3, 32 and H = 1, 17, 64,
// contiguous and row-strided views at offsets (padding reads NaN, so a stray read shows), a
// stride-0 bias, NaN and ±Inf among the inputs, float32 and float64; plus the fallbacks (column-
// strided views, small cells), the addon's argument checks, and whole nn.LSTM / nn.GRU layers
// (forward and gradients) against the js backend. Skipped when the addon is not built.
//
// Tolerances: forward float32 computes every value in double like js, with its own vectorised exp,
// so results are the same float32 or one ulp apart (|Δ| ≤ 2⁻²³·|js| + 1e-38); float64 uses libm
// where V8 uses fdlibm: |Δ| ≤ 1e-13·|js| + 1e-15 (values are O(1); c' may cancel). The backward
// kernels use js's expression order and no transcendental: they must match exactly. Non-finite
// results must match exactly everywhere.

import { test } from "node:test";
import assert from "node:assert/strict";
import { allocArray, type DType } from "../../src/core/dtype.js";
import { Generator } from "../../src/core/random.js";
import type { View } from "../../src/backends/backend.js";
import type { Accelerations } from "../../src/backends/accelerations.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { initNative, nativeAddon, nativeBackend } from "../../src/backends/native/index.js";
import { nativeRnnKernels } from "../../src/backends/native/rnn.js";
import { backend, setBackend } from "../../src/backends/index.js";
import { manualSeed, randn, type Tensor } from "../../src/index.js";
import { GRU, LSTM } from "../../src/nn/layers/rnn.js";

const skip = initNative(false) ? false : "native addon not built (npm install could not compile native/)";
const addon = nativeAddon();
const cells = skip ? undefined : nativeRnnKernels(addon!, 0, 0); // every size through the addon
const gen = new Generator(7);
const js = jsBackend.accelerations as Accelerations;

/** A [rows, cols] view; `pad` extra columns per row and `offset` leading elements read NaN. */
function mat(dtype: DType, rows: number, cols: number, pad = 0, offset = 0, hostile = false): View {
  const rs = cols + pad;
  const data = allocArray(dtype, offset + rows * rs + 2).fill(NaN);
  const specials = [NaN, Infinity, -Infinity, 0, -0, 40, -40, 1e-7];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      data[offset + r * rs + c] =
        hostile && gen.uniform() < 0.1 ? specials[Math.floor(gen.uniform() * specials.length)]! : gen.uniform() * 6 - 3;
  return { data, shape: [rows, cols], strides: [rs, 1], offset };
}

/** A contiguous output of NaN with a NaN guard after it. */
function outMat(dtype: DType, rows: number, cols: number): View {
  return { data: allocArray(dtype, rows * cols + 3).fill(NaN), shape: [rows, cols], strides: [cols, 1], offset: 0 };
}

function clone(v: View): View {
  return { ...v, data: v.data.slice() };
}

function compare(what: string, got: View, want: View, exact: boolean): void {
  const f32 = got.data instanceof Float32Array;
  for (let i = 0; i < got.data.length; i++) {
    const g = got.data[i]!;
    const w = want.data[i]!;
    if (!Number.isFinite(w) || !Number.isFinite(g) || exact) {
      assert.ok(Object.is(g, w) || (g === 0 && w === 0 && !exact), `${what}[${i}]: native ${g}, js ${w}`);
    } else {
      const tol = f32 ? 2 ** -23 * Math.abs(w) + 1e-38 : 1e-13 * Math.abs(w) + 1e-15;
      assert.ok(Math.abs(g - w) <= tol, `${what}[${i}]: native ${g}, js ${w}, |Δ| ${Math.abs(g - w)} > ${tol}`);
    }
  }
}

/** Runs a kernel call on native and on js with separate copies of the outputs, and compares them. */
function both(what: string, outs: View[], call: (k: Accelerations, outs: View[]) => void, exact: boolean): void {
  const mine = outs.map(clone);
  const ref = outs.map(clone);
  call({ ...js, ...cells! }, mine);
  call(js, ref);
  mine.forEach((m, i) => compare(`${what} out${i}`, m, ref[i]!, exact));
}

function everyIsa(fn: (isa: string) => void): void {
  const best = addon!.isa() as "avx512" | "avx2" | "portable";
  try {
    for (const isa of ["avx512", "avx2", "portable"] as const) {
      try {
        addon!.setIsa(isa);
      } catch {
        continue; // not on this CPU
      }
      fn(isa);
    }
  } finally {
    addon!.setIsa(best);
  }
}

const CASES: [number, number][] = [
  [1, 1],
  [3, 17],
  [1, 64],
  [32, 17],
  [3, 64],
];

for (const dtype of ["float32", "float64"] as const) {
  test(`lstmCell forward and backward match js (${dtype})`, { skip }, () => {
    everyIsa((isa) => {
      for (const [B, H] of CASES) {
        for (const [pad, off, hostile] of [
          [0, 0, false],
          [3, 5, false],
          [1, 2, true],
        ] as const) {
          const what = `${isa} ${dtype} B=${B} H=${H} pad=${pad} hostile=${hostile}`;
          const xg = mat(dtype, B, 4 * H, pad, off, hostile);
          const hg = mat(dtype, B, 4 * H, pad + 2, off + 1, hostile);
          const c = mat(dtype, B, H, pad, off, hostile);
          both(`lstmCell ${what}`, [outMat(dtype, B, 7 * H)], (k, [o]) => k.lstmCell(xg, hg, c, o!), false);
          const ws = outMat(dtype, B, 7 * H);
          js.lstmCell(xg, hg, c, ws);
          const dh = mat(dtype, B, H, pad, off, hostile);
          const dc = mat(dtype, B, H, pad + 1, off, hostile);
          both(
            `lstmCellBackward ${what}`,
            [outMat(dtype, B, 4 * H), outMat(dtype, B, H)],
            (k, [dg, dcp]) => k.lstmCellBackward(ws, c, dh, dc, dg!, dcp!),
            true,
          );
        }
      }
    });
  });

  test(`gruCell forward and backward match js (${dtype})`, { skip }, () => {
    everyIsa((isa) => {
      for (const [B, H] of CASES) {
        for (const [pad, off, hostile, bias] of [
          [0, 0, false, true],
          [3, 5, false, false],
          [1, 2, true, true],
        ] as const) {
          const what = `${isa} ${dtype} B=${B} H=${H} pad=${pad} hostile=${hostile} bias=${bias}`;
          const xg = mat(dtype, B, 3 * H, pad, off, hostile);
          const hg = mat(dtype, B, 3 * H, pad + 2, off + 1, hostile);
          const h = mat(dtype, B, H, pad, off, hostile);
          const b1 = mat(dtype, 1, H, 0, 3, hostile);
          const bhn = bias ? { ...b1, shape: [B, H], strides: [0, 1] } : null; // broadcast over the batch
          both(`gruCell ${what}`, [outMat(dtype, B, 5 * H)], (k, [o]) => k.gruCell(xg, hg, h, bhn, o!), false);
          const ws = outMat(dtype, B, 5 * H);
          js.gruCell(xg, hg, h, bhn, ws);
          const dh = mat(dtype, B, H, pad, off, hostile);
          both(
            `gruCellBackward ${what}`,
            [outMat(dtype, B, 3 * H), outMat(dtype, B, 3 * H), outMat(dtype, B, H)],
            (k, [dx, dy, dp]) => k.gruCellBackward(ws, h, dh, dx!, dy!, dp!),
            true,
          );
        }
      }
    });
  });
}

test("column-strided views and small cells fall back to js with the same results", { skip }, () => {
  const B = 3;
  const H = 17;
  const full = mat("float32", B, 8 * H);
  const xg: View = { ...full, shape: [B, 4 * H], strides: [8 * H, 2] }; // every other column
  const hg = mat("float32", B, 4 * H);
  const c = mat("float32", B, H);
  both("strided lstmCell", [outMat("float32", B, 7 * H)], (k, [o]) => k.lstmCell(xg, hg, c, o!), true);
  const small = nativeBackend(addon!).accelerations as Accelerations; // the backend's own thresholds: B·H = 1 stays in JS
  const [x1, y1, c1] = [mat("float64", 1, 4), mat("float64", 1, 4), mat("float64", 1, 1)];
  const o1 = outMat("float64", 1, 7);
  const o2 = outMat("float64", 1, 7);
  small.lstmCell(x1, y1, c1, o1);
  js.lstmCell(x1, y1, c1, o2);
  compare("B·H = 1 lstmCell", o1, o2, true);
});

test("the addon refuses bad arguments instead of reading out of bounds", { skip }, () => {
  const f = new Float32Array(4 * 8);
  const meta = (B: number, H: number, ...pairs: number[]) => new Float64Array([B, H, ...pairs]);
  // out needs 7·H per row: 7·2 = 14 > 8 columns available in a 1-row Float32Array(8).
  assert.throws(
    () => addon!.lstmCell(f, f, f, new Float32Array(8), meta(1, 2, 0, 8, 0, 8, 0, 2, 0, 14)),
    /outside its array/,
  );
  assert.throws(() => addon!.lstmCell(f, f, f, f, new Float64Array(3)), /meta/);
  assert.throws(() => addon!.lstmCell(f, new Float64Array(32), f, f, meta(1, 1, 0, 4, 0, 4, 0, 1, 0, 7)), /one dtype/);
  assert.throws(() => addon!.gruCell(f, f, f, null, f, meta(-1, 1, 0, 3, 0, 3, 0, 1, 0, 0, 0, 5)), /negative/);
  assert.throws(() => addon!.lstmCell(f, f, f, f, meta(2, 1, -1, 4, 0, 4, 0, 1, 0, 7)), /outside its array/);
  assert.throws(
    () => addon!.gruCellBackward(f, f, f, f, f, f, meta(1, 1.5, 0, 5, 0, 1, 0, 1, 0, 3, 0, 3, 0, 1)),
    /integers/,
  );
});

test("nn.LSTM / nn.GRU (2 layers, bidirectional) give js's outputs and gradients on native", { skip }, () => {
  const prev = backend().name;
  try {
    for (const dtype of ["float32", "float64"] as const) {
      for (const Layer of [LSTM, GRU]) {
        const run = (name: string) => {
          setBackend(name);
          manualSeed(5);
          const m = new Layer(6, 17, { numLayers: 2, bidirectional: true, dtype });
          const x = randn([5, 3, 6], { dtype }).requiresGrad_();
          const [out, st] = m.forward(x) as [Tensor, Tensor | [Tensor, Tensor]];
          const h = Array.isArray(st) ? st[0] : st;
          out.square().sum().add(h.sum()).backward();
          return [out, h, x.grad!, ...m.parameters().map((p) => p.grad!)].map((t) => t.toFlatArray());
        };
        const want = run("js");
        const got = run("native");
        const tol = dtype === "float32" ? 1e-4 : 1e-11;
        got.forEach((g, i) =>
          g.forEach((v, j) =>
            assert.ok(
              Math.abs(v - want[i]![j]!) <= tol * (1 + Math.abs(want[i]![j]!)),
              `${Layer.name} ${dtype} tensor ${i}[${j}]: native ${v}, js ${want[i]![j]}`,
            ),
          ),
        );
      }
    }
  } finally {
    setBackend(prev);
  }
});
